package dev.lockkeeper.sidecar.linux;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * File names are bytes: Linux allows any byte but '/' and NUL, whatever the locale, and a volume holds what its
 * users' programs wrote (Latin-1 names from an old system, random bytes). The engine passes names to the kernel
 * as the bytes it read from the kernel and turns them into text only to show them, here.
 */
public final class FileNames {
    private static final HexFormat HEX = HexFormat.of();

    private FileNames() {}

    /**
     * How a name appears in messages: valid UTF-8 as its text; every byte that is not part of valid UTF-8, every
     * control character and the backslash itself as {@code \xNN}, so two different names never look the same and
     * a name cannot break a message's line.
     */
    public static String show(byte[] name) {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(name);
        CharBuffer out = CharBuffer.allocate(name.length);
        StringBuilder text = new StringBuilder(name.length);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            out.flip();
            appendEscaped(text, out);
            out.clear();
            if (result.isUnderflow()) break;
            if (result.isError()) {
                for (int i = 0; i < result.length(); i++) escape(text, in.get());
            }
        }
        return text.toString();
    }

    /** Every byte outside printable ASCII escaped: a form that survives any locale and any terminal. */
    public static String ascii(byte[] name) {
        StringBuilder text = new StringBuilder(name.length);
        for (byte b : name) {
            if (b >= 0x20 && b < 0x7f && b != '\\') text.append((char) b);
            else escape(text, b);
        }
        return text.toString();
    }

    private static void appendEscaped(StringBuilder text, CharSequence decoded) {
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\') escape(text, (byte) c);
            else text.append(c);
        }
    }

    private static void escape(StringBuilder text, byte b) {
        text.append("\\x").append(HEX.toHexDigits(b));
    }
}
