package dev.lockkeeper.webhook.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Command-line byte counts as Kubernetes writes memory: a whole number of bytes, or with a binary suffix ({@code 512Ki},
 * {@code 16Mi}, {@code 1Gi}). Zero or a negative number passes here; the configuration refuses it with the flag's name.
 */
final class ByteSizeConverter implements ITypeConverter<Long> {
    private static final Pattern SIZE = Pattern.compile("(-?\\d{1,12})(Ki|Mi|Gi)?");

    @Override
    public Long convert(String value) {
        Matcher m = SIZE.matcher(value.strip());
        if (!m.matches())
            throw new TypeConversionException("'" + value + "' is not a size like 1048576, 512Ki or 16Mi");
        long number = Long.parseLong(m.group(1));
        int shift = m.group(2) == null
                ? 0
                : switch (m.group(2)) {
                    case "Ki" -> 10;
                    case "Mi" -> 20;
                    default -> 30;
                };
        return number << shift;
    }
}
