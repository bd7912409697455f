package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusReaderTest {
    @TempDir
    Path dir;

    @Test
    void timestampsParseWithAndWithoutFractionsAsUtc() {
        assertEquals(1397114100000L, Timestamps.parseMillis("2014-04-10 07:15:00"));
        assertEquals(1397114100250L, Timestamps.parseMillis("2014-04-10 07:15:00.250000"));
        assertEquals(1397114100000L, Timestamps.parseMillis("2014-04-10T07:15:00"));
        assertEquals("2014-04-10 07:15:00", Timestamps.format(1397114100000L));
        assertEquals("2014-04-10 07:15:00.250000", Timestamps.formatLabel(1397114100250L));
        assertThrows(IllegalArgumentException.class, () -> Timestamps.parseMillis("10/04/2014"));
    }

    @Test
    void readsNestedFilesWithTheirWindowsAsRows() throws Exception {
        Files.createDirectories(dir.resolve("data/group"));
        Files.writeString(dir.resolve("data/group/a.csv"), """
                timestamp,value
                2014-04-10 07:00:00,1
                2014-04-10 07:05:00,2
                2014-04-10 07:10:00,3
                2014-04-10 07:15:00,4
                """);
        Files.writeString(dir.resolve("data/b.csv"), "timestamp,x,y\n2014-04-10 07:00:00,1,2\n");
        Files.writeString(dir.resolve("labels.json"), """
                {"group/a.csv": [["2014-04-10 07:04:00.000000", "2014-04-10 07:10:00.000000"],
                                 ["2014-04-10 07:09:00.000000", "2014-04-10 07:20:00.000000"]]}
                """);
        List<LabelledStream> corpus = CorpusReader.read(dir.resolve("data"), dir.resolve("labels.json"));
        assertEquals(2, corpus.size());
        LabelledStream b = corpus.get(0), a = corpus.get(1);
        assertEquals("b.csv", b.path());
        assertEquals(List.of("x", "y"), b.channels());
        assertTrue(b.windows().isEmpty());
        assertEquals("group/a.csv", a.path());
        assertEquals(List.of(new LabelledStream.RowWindow(1, 3)), a.windows()); // overlapping windows merged
        assertEquals(4f, a.values()[3][0]);
    }

    @Test
    void anExcelByteOrderMarkIsReadAsNoPartOfTheHeaderAndLatin1IsAnErrorNamingTheFile() throws Exception {
        Files.writeString(dir.resolve("bom.csv"), "\uFEFFtimestamp,value\n2014-04-10 07:00:00,1\n");
        Files.writeString(dir.resolve("labels.json"), "{}");
        assertEquals(List.of("value"), CorpusReader.read(dir, dir.resolve("labels.json")).getFirst().channels());
        Files.write(dir.resolve("latin1.csv"), "timestamp,temp \u00b0C\n2014-04-10 07:00:00,1\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        var e = assertThrows(java.io.IOException.class, () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(e.getMessage().contains("latin1.csv is not UTF-8 text"), e.getMessage());
    }

    @Test
    void badInputFailsNamingTheFileAndLine() throws Exception {
        Files.writeString(dir.resolve("bad.csv"), "timestamp,value\n2014-04-10 07:00:00,1\n2014-04-10 07:05:00,oops\n");
        Files.writeString(dir.resolve("labels.json"), "{}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(e.getMessage().contains("bad.csv:3"), e.getMessage());
    }

    @Test
    void labelsThatMissEveryRowOrAreNotAListOrAFileWithoutRowsAreRejected() throws Exception {
        Files.writeString(dir.resolve("a.csv"), "timestamp,value\n2014-04-10 07:00:00,1\n2014-04-10 07:05:00,2\n");
        Files.writeString(dir.resolve("labels.json"), "{\"a.csv\": [[\"2015-04-10 07:00:00\", \"2015-04-10 08:00:00\"]]}");
        IllegalArgumentException wrongYear = assertThrows(IllegalArgumentException.class,
                () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(wrongYear.getMessage().contains("none of its 1 labelled windows covers a row"), wrongYear.getMessage());
        Files.writeString(dir.resolve("labels.json"), "{\"a.csv\": {\"start\": \"2014-04-10 07:00:00\"}}");
        IllegalArgumentException notAList = assertThrows(IllegalArgumentException.class,
                () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(notAList.getMessage().contains("must be a list"), notAList.getMessage());
        Files.writeString(dir.resolve("a.csv"), "timestamp,value\n");
        Files.writeString(dir.resolve("labels.json"), "{}");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(empty.getMessage().contains("no data rows"), empty.getMessage());
    }

    @Test
    void labelsNamingAMissingFileAreRejected() throws Exception {
        Files.writeString(dir.resolve("a.csv"), "timestamp,value\n2014-04-10 07:00:00,1\n");
        Files.writeString(dir.resolve("labels.json"), "{\"nope.csv\": []}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CorpusReader.read(dir, dir.resolve("labels.json")));
        assertTrue(e.getMessage().contains("nope.csv"), e.getMessage());
    }

    @Test
    void timeGoingBackwardsIsRejected() throws Exception {
        Files.writeString(dir.resolve("a.csv"), "timestamp,value\n2014-04-10 07:05:00,1\n2014-04-10 07:00:00,1\n");
        Files.writeString(dir.resolve("labels.json"), "{}");
        assertThrows(IllegalArgumentException.class, () -> CorpusReader.read(dir, dir.resolve("labels.json")));
    }
}
