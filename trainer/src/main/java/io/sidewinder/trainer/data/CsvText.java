package io.sidewinder.trainer.data;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;

/** What every CSV reader of the project does alike with the text it is given: UTF-8, with or without a BOM. */
public final class CsvText {
    private CsvText() {}

    /** A header line without the byte-order mark Excel's "CSV UTF-8" puts before the first column's name. */
    public static String header(String firstLine) {
        return firstLine.startsWith("\uFEFF") ? firstLine.substring(1) : firstLine;
    }

    /** The error for a file whose bytes are not UTF-8 (a cp1252 export with "°C"), naming the file. */
    public static IOException notUtf8(Path file, CharacterCodingException e) {
        return new IOException(file + " is not UTF-8 text (" + e + "); save it as UTF-8", e);
    }
}
