#!/usr/bin/env bash
# Whether lz4 or zstd on DATA frames pays between nodes (issue 10): prints ratio, single-core rates and modelled
# transfer rates at 1, 10 and 25 Gbit/s for a VM-like image. Not a test.
#   bash bench/compression.sh [IMAGE] [MAX_MIB]     (root for the default image; MAX_MIB: data read, default 640, 64 is a smoke run)
# Without IMAGE it builds bench/out/compression/vm.img once: a 4 GiB ext4 image (as a VM's root disk) holding a
# copy of this machine's /usr (binaries, shared libraries, documentation, locale data: what an OS image is made of).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
mvn -B -ntp -q dependency:get -Dartifact=at.yawk.lz4:lz4-java:1.14.1 >/dev/null
mvn -B -ntp -q dependency:get -Dartifact=com.github.luben:zstd-jni:1.5.7-9 >/dev/null
cp=~/.m2/repository/at/yawk/lz4/lz4-java/1.14.1/lz4-java-1.14.1.jar:~/.m2/repository/com/github/luben/zstd-jni/1.5.7-9/zstd-jni-1.5.7-9.jar
image=${1:-}
if [ -z "$image" ]; then
  out=${LK_BENCH_DIR:-$root/bench/out}/compression
  image=$out/vm.img
  if [ ! -f "$image" ]; then
    [ "$(id -u)" = 0 ] || { echo "bench/compression.sh: building the image needs root (a loop mount)" >&2; exit 1; }
    mkdir -p "$out/mnt"
    truncate -s 4G "$image.tmp"
    mkfs.ext4 -q -F "$image.tmp"
    mount -o loop "$image.tmp" "$out/mnt"
    trap 'umount "$out/mnt" 2>/dev/null || true' EXIT
    cp -a /usr "$out/mnt/" 2>/dev/null || true
    umount "$out/mnt"; trap - EXIT
    mv "$image.tmp" "$image"
  fi
fi
# the frames are held in memory to time each codec over the same bytes: 640 MiB fits the 1 GiB heap
exec "$java" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$cp" "$root/bench/Compression.java" "$image" "${2:-640}"
