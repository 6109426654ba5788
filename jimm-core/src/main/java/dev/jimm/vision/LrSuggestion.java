package dev.jimm.vision;

import dev.jimm.train.CliNames;
import dev.jimm.train.LrFinder;

/**
 * Where a run's peak learning rate comes from when none is given: fastai's default for the fit, or one of lr_find's
 * suggestions. On the command line {@code auto} means {@link #VALLEY}.
 */
public enum LrSuggestion {
    /** fastai's default: 1e-3 for fit_one_cycle from scratch, 2e-3 for fine_tune. */
    DEFAULT,
    /** lr_find's valley (fastai's default suggestion). */
    VALLEY,
    /** lr_find's loss minimum divided by 10. */
    MINIMUM,
    /** lr_find's steepest descent. */
    STEEP;

    /** The suggestion named {@code text} (case-insensitive; {@code auto} is valley). */
    public static LrSuggestion parse(String text) {
        if (text.trim().equalsIgnoreCase("auto")) {
            return VALLEY;
        }
        return CliNames.parse(values(), text, "the lr suggestion");
    }

    /** Whether {@code text} names a suggestion (or {@code auto}) rather than a rate. */
    public static boolean isName(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The name on the command line and in config.json. */
    public String cliName() {
        return CliNames.of(this);
    }

    /** Whether the rate needs an lr_find sweep. */
    public boolean needsLrFind() {
        return this != DEFAULT;
    }

    /** This suggestion's rate from a sweep. */
    public double pick(LrFinder.Result found) {
        return switch (this) {
            case MINIMUM -> found.minimum();
            case STEEP -> found.steep();
            case VALLEY -> found.valley();
            case DEFAULT -> throw new IllegalStateException("the default rate is not an lr_find suggestion");
        };
    }
}
