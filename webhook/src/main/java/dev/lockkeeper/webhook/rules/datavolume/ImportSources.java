package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.json.Json;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * CDI's checks of import sources ({@code pkg/apiserver/webhooks/util.go}): HTTP, S3, GCS, blank,
 * registry, ImageIO and VDDK, in that order, with CDI's messages.
 */
final class ImportSources {
    private static final Set<String> URL_SCHEMES = Set.of("http", "https", "gs");
    private static final Set<String> REGISTRY_SCHEMES = Set.of("docker", "oci");
    private static final Set<String> PULL_METHODS = Set.of("pod", "node");
    private static final Map<String, Integer> CHECKSUM_HEX_LENGTHS =
            Map.of("md5", 32, "sha1", 40, "sha256", 64, "sha512", 128);

    private ImportSources() {}

    /** The first problem of the import source in {@code source}, if any; {@code contentType} as the spec gives it. */
    static Optional<Cause> problem(JsonNode source, String contentType) {
        if (source.path("http").isObject()) {
            JsonNode http = source.path("http");
            Optional<Cause> url = sourceUrlProblem(Json.text(http, "url"), "http");
            if (url.isPresent()) return url;
            Optional<Cause> checksum = checksumProblem(Json.text(http, "checksum"));
            if (checksum.isPresent()) return checksum;
        }
        if (source.path("s3").isObject()) {
            Optional<Cause> url = sourceUrlProblem(Json.text(source, "s3", "url"), "s3");
            if (url.isPresent()) return url;
        }
        if (source.path("gcs").isObject()) {
            Optional<Cause> url = sourceUrlProblem(Json.text(source, "gcs", "url"), "gcs");
            if (url.isPresent()) return url;
        }
        if (source.path("blank").isObject() && contentType.equals("archive")) {
            return Optional.of(
                    Cause.invalid("spec.contentType", "SourceType cannot be blank and the contentType be archive"));
        }
        if (source.path("registry").isObject()) {
            Optional<Cause> registry = registryProblem(source.path("registry"), contentType);
            if (registry.isPresent()) return registry;
        }
        if (source.path("imageio").isObject()) {
            Optional<Cause> imageio = imageioProblem(source.path("imageio"));
            if (imageio.isPresent()) return imageio;
        }
        if (source.path("vddk").isObject()) return vddkProblem(source.path("vddk"));
        return Optional.empty();
    }

    /** {@code checkSourceURL}: Go's {@code url.ParseRequestURI}, then scheme http, https or gs. */
    private static Optional<Cause> sourceUrlProblem(String url, String sourceType) {
        String problem = null;
        if (url.isEmpty()) {
            problem = "source URL is empty";
        } else {
            try {
                URI parsed = new URI(url);
                if (parsed.getScheme() == null && !url.startsWith("/")) {
                    problem = "Invalid source URL: " + url;
                } else if (parsed.getScheme() == null || !URL_SCHEMES.contains(parsed.getScheme())) {
                    problem = "Invalid source URL scheme: " + url;
                }
            } catch (URISyntaxException e) {
                problem = "Invalid source URL: " + url;
            }
        }
        return problem == null
                ? Optional.empty()
                : Optional.of(Cause.invalid("spec.source." + sourceType + ".url", "spec.source " + problem));
    }

    /** {@code checksum.ParseAndValidate}: {@code algorithm:hex}, md5/sha1/sha256/sha512, hex of the algorithm's length. */
    private static Optional<Cause> checksumProblem(String checksum) {
        if (checksum.isEmpty()) return Optional.empty();
        String problem = null;
        int colon = checksum.indexOf(':');
        if (colon < 0) {
            problem = "invalid checksum format: expected 'algorithm:hash', got '" + checksum + "'";
        } else {
            String algorithm = checksum.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String hash = checksum.substring(colon + 1).strip().toLowerCase(Locale.ROOT);
            Integer length = CHECKSUM_HEX_LENGTHS.get(algorithm);
            if (hash.isEmpty()) {
                problem = "checksum hash value cannot be empty";
            } else if (length == null) {
                problem = "unsupported hash algorithm '" + algorithm
                        + "': supported algorithms are: md5, sha1, sha256, sha512";
            } else if (hash.length() != length) {
                problem = "invalid " + algorithm + " hash length: expected " + length + " hex characters, got "
                        + hash.length();
            } else {
                int invalid = hash.chars()
                        .filter(c -> !HexFormat.isHexDigit(c))
                        .findFirst()
                        .orElse(-1);
                // Go's hex.InvalidByteError, formatted %#U
                if (invalid >= 0) {
                    problem = String.format(
                            "checksum hash is not valid hexadecimal: encoding/hex: invalid byte: U+%04X '%c'",
                            invalid, invalid);
                }
            }
        }
        return problem == null
                ? Optional.empty()
                : Optional.of(Cause.invalid("spec.source.http.checksum", "Invalid checksum format: " + problem));
    }

    /** {@code validateRegistrySource} and {@code validateDataVolumeSourceRegistry}. */
    private static Optional<Cause> registryProblem(JsonNode registry, String contentType) {
        if (!contentType.isEmpty() && !contentType.equals("kubevirt")) {
            return Optional.of(
                    Cause.invalid("spec.contentType", "ContentType must be kubevirt when Source is Registry"));
        }
        JsonNode url = registry.path("url"), imageStream = registry.path("imageStream");
        boolean hasUrl = url.isTextual(), hasImageStream = imageStream.isTextual();
        if (hasUrl == hasImageStream) {
            return Optional.of(
                    Cause.invalid("spec.source.registry", "Source registry should have either URL or ImageStream"));
        }
        if (hasUrl) {
            String scheme;
            try {
                scheme = new URI(url.asText()).getScheme();
            } catch (URISyntaxException e) {
                return Optional.of(
                        Cause.invalid("spec.source.registry.url", "Illegal registry source URL " + url.asText()));
            }
            if (scheme == null || !REGISTRY_SCHEMES.contains(scheme)) {
                return Optional.of(Cause.invalid(
                        "spec.source.registry.url", "Illegal registry source URL scheme " + url.asText()));
            }
        }
        JsonNode pullMethod = registry.path("pullMethod");
        if (pullMethod.isTextual() && !PULL_METHODS.contains(pullMethod.asText())) {
            return Optional.of(Cause.invalid(
                    "spec.source.registry.pullMethod",
                    "ImportMethod " + pullMethod.asText() + " is neither pod, node or \"\""));
        }
        if (hasImageStream && imageStream.asText().isEmpty()) {
            return Optional.of(
                    Cause.invalid("spec.source.registry.imageStream", "Source registry ImageStream is not valid"));
        }
        if (hasImageStream && !"node".equals(pullMethod.asText(""))) {
            return Optional.of(Cause.invalid(
                    "spec.source.registry.pullMethod",
                    "Source registry ImageStream is supported only with node pull import method"));
        }
        return Optional.empty();
    }

    private static Optional<Cause> imageioProblem(JsonNode imageio) {
        if (Json.text(imageio, "secretRef").isEmpty()
                || Json.text(imageio, "diskId").isEmpty()) {
            return Optional.of(Cause.invalid("spec.source.imageio", "spec.source.Imageio source Imageio is not valid"));
        }
        if (Json.text(imageio, "certConfigMap").isEmpty()
                && !imageio.path("insecureSkipVerify").asBoolean(false)) {
            return Optional.of(Cause.invalid(
                    "spec.source.imageio",
                    "spec.source.Imageio source Imageio requires CertConfigMap or InsecureSkipVerify"));
        }
        return sourceUrlProblem(Json.text(imageio, "url"), "imageio");
    }

    private static Optional<Cause> vddkProblem(JsonNode vddk) {
        for (String required : new String[] {"secretRef", "uuid", "backingFile", "thumbprint"}) {
            if (Json.text(vddk, required).isEmpty()) {
                return Optional.of(Cause.invalid("spec.source.vddk", "spec.source.VDDK source VDDK is not valid"));
            }
        }
        return sourceUrlProblem(Json.text(vddk, "url"), "vddk");
    }
}
