package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.data.TestFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InspectImageCommandTest {
    @Test
    void oneLinePerFileAndFailureStatus() {
        StringWriter sw = new StringWriter();
        CommandLine cl = new CommandLine(new InspectImageCommand());
        cl.setOut(new PrintWriter(sw));
        int ok = cl.execute(
                TestFiles.resource("images/odd/chelsea_exif_orientation6.jpg").toString(),
                TestFiles.resource("images/odd/chessboard_GRAY_U16.tif").toString());
        assertEquals(0, ok);
        String[] lines = sw.toString().split("\n");
        assertEquals(2, lines.length);
        assertTrue(
                lines[0].contains("451x300") && lines[0].contains("3 channels") && lines[0].contains("jpeg"), lines[0]);
        assertTrue(lines[1].contains("200x200") && lines[1].contains("tif"), lines[1]);

        StringWriter sw2 = new StringWriter();
        CommandLine cl2 = new CommandLine(new InspectImageCommand());
        cl2.setOut(new PrintWriter(sw2));
        int bad = cl2.execute(
                "--gray",
                TestFiles.resource("images/odd/palette_color.png").toString(),
                TestFiles.resource("images/odd/empty.jpg").toString());
        assertEquals(1, bad);
        String[] l2 = sw2.toString().split("\n");
        assertTrue(l2[0].contains("10x10") && l2[0].contains("1 channel"), l2[0]);
        assertTrue(l2[1].contains("empty.jpg") && l2[1].contains("ERROR") && l2[1].contains("empty"), l2[1]);
    }
}
