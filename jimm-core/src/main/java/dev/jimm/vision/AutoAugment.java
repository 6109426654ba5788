package dev.jimm.vision;

import dev.jimm.train.CliNames;

/** The timm policy's automatic augmentation: none (colour jitter), TrivialAugmentWide or RandAugment (n 2, m 9). */
public enum AutoAugment {
    NONE,
    TA,
    RA;

    /** The choice named {@code text}: none, ta or ra (case-insensitive). */
    public static AutoAugment parse(String text) {
        return CliNames.parse(values(), text, "--auto-augment");
    }

    /** The name on the command line and in config.json. */
    public String cliName() {
        return CliNames.of(this);
    }
}
