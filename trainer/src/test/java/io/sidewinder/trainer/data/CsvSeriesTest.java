package io.sidewinder.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvSeriesTest {
    @TempDir
    Path dir;

    private Path csv(String text) throws IOException {
        return Files.writeString(dir.resolve("s.csv"), text);
    }

    @Test
    void rowsTheStreamWouldDeadLetterAreLeftOutAndNamed() throws IOException {
        CsvSeries s = CsvSeries.read(csv("""
                date,a,b
                1000,1,2
                2000,NaN,3
                3000,4,5
                3000,6,7
                4000,8,Infinity
                5000,9,10
                6000,3.4E38,1
                7000,1E17,2
                """), "date", null);
        assertArrayEquals(new long[] {1000, 3000, 5000, 7000}, s.times());
        assertEquals(9f, s.values()[2][0]);
        assertEquals(1e17f, s.values()[3][0], "a large measurement is kept; a sentinel (3.4e38) is not");
        assertTrue(s.skipped().contains("3 with a missing, non-finite or out-of-range value (first: line 3)"), s.skipped());
        assertTrue(s.skipped().contains("1 repeating the previous row's time (first: line 5)"), s.skipped());
    }

    @Test
    void aCleanFileLeavesNothingOut() throws IOException {
        assertEquals("", CsvSeries.read(csv("date,a\n1000,1\n2000,2\n"), "date", null).skipped());
    }

    @Test
    void timeGoingBackwardsIsAnErrorWithItsLine() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> CsvSeries.read(csv("date,a\n2000,1\n1000,2\n"), "date", null));
        assertTrue(e.getMessage().contains(":3: time goes backwards") && e.getMessage().endsWith("sort the file by time"),
                e.getMessage());
    }

    @Test
    void aColumnWithoutANameIsAnErrorWithItsPosition() throws IOException {
        IOException e = assertThrows(IOException.class, () -> CsvSeries.read(csv("date,,b\n1000,1,2\n"), "date", null));
        assertTrue(e.getMessage().endsWith(":1: column 2 has no name"), e.getMessage());
    }

    @Test
    void isoTimesWithAZoneAreReadAndARowWithAStrayFieldIsAnError() throws IOException {
        CsvSeries s = CsvSeries.read(csv("date,a\n2016-07-01T00:00:00Z,1\n2016-07-01T02:00:00+01:00,2\n"
                + "2016-07-01 02:00:00+00:00,3\n"), "date", null);   // the last as pandas writes it
        assertEquals(3_600_000L, s.times()[1] - s.times()[0]);
        assertEquals(3_600_000L, s.times()[2] - s.times()[1]);
        IOException ragged = assertThrows(IOException.class,
                () -> CsvSeries.read(csv("date,a\n1000,1\n2000,2,7\n"), "date", null));
        assertTrue(ragged.getMessage().contains(":3: expected 2 fields, got 3"), ragged.getMessage());
        IOException garbled = assertThrows(IOException.class,
                () -> CsvSeries.read(csv("date,a\nyesterday,1\n"), "date", null));
        assertTrue(garbled.getMessage().contains("accepted:"), garbled.getMessage());
    }

    @Test
    void epochSecondsMicrosAndNanosAreReadAsTheirDatesAndSmallNumbersStayMilliseconds() throws IOException {
        long t0 = 1_700_000_000_000L;   // 2023-11-14, in ms
        for (String[] rows : new String[][] {{"1700000000", "1700000060"}, {"1700000000000", "1700000060000"},
                {"1700000000000000", "1700000060000000"}, {"1700000000000000000", "1700000060000000000"}}) {
            CsvSeries s = CsvSeries.read(csv("date,a\n" + rows[0] + ",1\n" + rows[1] + ",2\n"), "date", null);
            assertArrayEquals(new long[] {t0, t0 + 60_000}, s.times(), rows[0]);
        }
        assertArrayEquals(new long[] {1000, 2000}, CsvSeries.read(csv("date,a\n1000,1\n2000,2\n"), "date", null).times());
    }

    @Test
    void anExcelByteOrderMarkIsNotPartOfTheFirstColumnsName() throws IOException {
        CsvSeries s = CsvSeries.read(csv("\uFEFFdate,a\n1000,1\n2000,2\n"), "date", null);
        assertArrayEquals(new long[] {1000, 2000}, s.times());
    }

    @Test
    void anEmptyCellIsAMissingValueLikeNaNAndItsRowIsLeftOut() throws IOException {
        // pandas' to_csv writes a missing value as an empty cell.
        CsvSeries s = CsvSeries.read(csv("date,a,b\n1000,1,2\n2000,,3\n3000,4,NA\n4000,5,6\n"), "date", null);
        assertArrayEquals(new long[] {1000, 4000}, s.times());
        assertTrue(s.skipped().contains("2 with a missing, non-finite or out-of-range value (first: line 3)"), s.skipped());
    }

    @Test
    void aFileWithOnlyATimeColumnOrNotInUtf8IsAnErrorNamingTheFile() throws IOException {
        var noValues = assertThrows(IOException.class, () -> CsvSeries.read(csv("date\n1000\n2000\n"), "date", null));
        assertTrue(noValues.getMessage().contains("has no value columns besides its time column 'date'"), noValues.getMessage());
        Path latin1 = Files.write(dir.resolve("latin1.csv"), "date,temp \u00b0C\n1000,1\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        var notUtf8 = assertThrows(IOException.class, () -> CsvSeries.read(latin1, "date", null));
        assertTrue(notUtf8.getMessage().contains(latin1 + " is not UTF-8 text"), notUtf8.getMessage());
    }
}
