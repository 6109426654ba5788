package dev.jimm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Images listed in a CSV with a header row: a file-name column (relative to an image folder) and a label column; an
 * optional boolean valid column (fastai's {@code is_valid}) splits train from valid. Classes are the sorted distinct
 * labels.
 */
public final class CsvImageDataset extends FileListDataset {
    private CsvImageDataset(List<Path> files, int[] labels, List<String> classes, ImageDecoder decoder) {
        super(files, labels, classes, decoder);
    }

    /** All rows of the CSV as one dataset. */
    public static CsvImageDataset of(
            Path csv, Path imageDir, String fileColumn, String labelColumn, ImageDecoder decoder) {
        Parsed p = parse(csv, fileColumn, labelColumn, null);
        return p.build(imageDir, decoder, null);
    }

    /** Train and valid from a boolean column (true/1/yes = valid). */
    public static Split split(
            Path csv, Path imageDir, String fileColumn, String labelColumn, String validColumn, ImageDecoder decoder) {
        Parsed p = parse(csv, fileColumn, labelColumn, validColumn);
        return new Split(p.build(imageDir, decoder, false), p.build(imageDir, decoder, true));
    }

    private record Parsed(List<String> names, List<String> labels, List<Boolean> valid, List<String> classes) {
        CsvImageDataset build(Path dir, ImageDecoder decoder, Boolean wantValid) {
            List<Path> files = new ArrayList<>();
            List<Integer> lab = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                if (wantValid == null || valid.get(i).equals(wantValid)) {
                    files.add(dir.resolve(names.get(i)));
                    lab.add(classes.indexOf(labels.get(i)));
                }
            }
            return new CsvImageDataset(
                    List.copyOf(files), lab.stream().mapToInt(Integer::intValue).toArray(), classes, decoder);
        }
    }

    private static Parsed parse(Path csv, String fileColumn, String labelColumn, String validColumn) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(csv + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException(csv + ": cannot read CSV", e);
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(
                    csv + ": empty CSV; expected a header row with columns " + fileColumn + " and " + labelColumn);
        }
        List<String> header = splitRow(lines.get(0));
        int fi = header.indexOf(fileColumn), li = header.indexOf(labelColumn);
        int vi = validColumn == null ? -1 : header.indexOf(validColumn);
        if (fi < 0 || li < 0 || (validColumn != null && vi < 0)) {
            throw new IllegalArgumentException(csv + ": header " + header + " lacks column "
                    + (fi < 0 ? fileColumn : li < 0 ? labelColumn : validColumn));
        }
        List<String> names = new ArrayList<>(), labels = new ArrayList<>();
        List<Boolean> valid = new ArrayList<>();
        for (int r = 1; r < lines.size(); r++) {
            if (lines.get(r).isBlank()) {
                continue;
            }
            List<String> row = splitRow(lines.get(r));
            int need = Math.max(fi, Math.max(li, vi));
            if (row.size() <= need) {
                throw new IllegalArgumentException(
                        csv + ": line " + (r + 1) + " has " + row.size() + " fields, expected at least " + (need + 1));
            }
            try {
                Path.of(row.get(fi));
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException(
                        csv + ": line " + (r + 1) + " names no file: '" + row.get(fi) + "' (" + e.getReason() + ")");
            }
            names.add(row.get(fi));
            labels.add(row.get(li));
            if (vi >= 0) {
                String v = row.get(vi).trim().toLowerCase(Locale.ROOT);
                valid.add(v.equals("true") || v.equals("1") || v.equals("yes"));
            }
        }
        return new Parsed(names, labels, valid, List.copyOf(new TreeSet<>(labels)));
    }

    /** Splits one CSV row, honoring double quotes ("" inside quotes is a quote). */
    static List<String> splitRow(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        boolean q = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (q) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    sb.append('"');
                    i++;
                } else if (ch == '"') {
                    q = false;
                } else {
                    sb.append(ch);
                }
            } else if (ch == '"') {
                q = true;
            } else if (ch == ',') {
                out.add(sb.toString());
                sb.setLength(0);
            } else {
                sb.append(ch);
            }
        }
        out.add(sb.toString());
        return out;
    }
}
