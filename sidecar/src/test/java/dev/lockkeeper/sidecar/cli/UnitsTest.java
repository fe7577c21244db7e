package dev.lockkeeper.sidecar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UnitsTest {
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"4096, 4096", "64K, 65536", "100M, 104857600", "1.5G, 1610612736", "2TiB, 2199023255552", "8mb, 8388608"
    })
    void parsesSizes(String text, long bytes) {
        assertEquals(bytes, Units.parseSize(text));
    }
}
