package dev.jimm.models;

import java.util.List;

/**
 * A family of architectures (one source file each) and the names it registers. Families are found with
 * {@link java.util.ServiceLoader}: list the class in {@code META-INF/services/dev.jimm.models.ModelFamily}.
 */
public interface ModelFamily {
    /** The family's name, as timm's module name ({@code resnet}, {@code vgg}, …). */
    String name();

    /** Every model name this family builds. */
    List<ModelEntry> models();
}
