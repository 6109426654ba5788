package dev.jimm.models;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * timm's listing order ({@code _natural_key}): names compared case-insensitively, with runs of digits compared as
 * numbers, so {@code resnet10t} comes before {@code resnet101} and {@code efficientnet_b2} before
 * {@code efficientnet_b10}.
 */
public final class NaturalOrder implements Comparator<String> {
    /** The one instance (the order has no state). */
    public static final NaturalOrder INSTANCE = new NaturalOrder();

    private NaturalOrder() {}

    @Override
    public int compare(String a, String b) {
        List<String> x = tokens(a);
        List<String> y = tokens(b);
        for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
            // tokens alternate text, number, text, ... from a (possibly empty) text token, as Python's re.split gives
            int c = i % 2 == 1
                    ? new BigInteger(x.get(i)).compareTo(new BigInteger(y.get(i)))
                    : x.get(i).compareTo(y.get(i));
            if (c != 0) {
                return c;
            }
        }
        int bySize = Integer.compare(x.size(), y.size());
        return bySize != 0 ? bySize : a.compareTo(b);
    }

    /** The name lower-cased and split into text and digit runs, starting with a text run. */
    private static List<String> tokens(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        int start = 0;
        boolean digits = false;
        for (int i = 0; i <= lower.length(); i++) {
            boolean isDigit = i < lower.length() && Character.isDigit(lower.charAt(i));
            if (i == lower.length() || isDigit != digits) {
                out.add(lower.substring(start, i));
                start = i;
                digits = isDigit;
            }
        }
        return out;
    }
}
