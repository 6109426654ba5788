package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.hub.Checkpoints;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.layers.PosEmbed;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * timm's {@code img_size} for the models built for one input size (ViT, DeiT, Swin v1/v2/v2-cr): set by
 * {@code ModelOptions.imgSize}, else the pretrained config's size; checkpoints of another size load with their position
 * embeddings resampled. The expected embeddings come from libtorch's interpolation (DJL's binding runs it with
 * antialias, as timm's ViT loader does) or from Swin's geometric grid checked by hand in PosEmbedTest.
 */
class ImgSizeTest {
    // DJL's bicubic and bilinear interpolation modes (libtorch's, antialiased)
    private static final int DJL_BICUBIC = 3;
    private static final int DJL_BILINEAR = 1;

    @TempDir
    Path tmp;

    /** A model of {@code name} at its default size, saved as a checkpoint. */
    private Path checkpoint(String name, long seed) {
        Path file = tmp.resolve(name + ".safetensors");
        try (ImageModel m =
                Models.createModel(name, ModelOptions.builder().seed(seed).build())) {
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
        }
        return file;
    }

    private static ModelOptions.Builder at(int size) {
        return ModelOptions.builder().imgSize(size);
    }

    /**
     * libtorch's resize of position embeddings [1, prefix + g * g, C] to a {@code size}-square grid, the prefix kept:
     * what timm's resample_abs_pos_embed computes.
     */
    private static NDArray libtorchResample(NDArray pos, int prefix, int size, int mode) {
        long c = pos.getShape().get(2);
        int g = (int) Math.round(Math.sqrt(pos.getShape().get(1) - prefix));
        NDArray grid = pos.get(":, " + prefix + ":").reshape(1, g, g, c).transpose(0, 3, 1, 2);
        NDArray resized = grid.getNDArrayInternal()
                .interpolation(new long[] {size, size}, mode, false)
                .transpose(0, 2, 3, 1)
                .reshape(1, (long) size * size, c);
        return prefix == 0 ? resized : pos.get(":, :" + prefix).concat(resized, 1);
    }

    @Test
    void aVitBuiltAt384ReportsItAndRunsAtIt() {
        try (ImageModel m = Models.createModel(
                        "vit_tiny_patch16_224", at(384).numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(List.of(3, 384, 384), m.pretrainedCfg().inputSize());
            assertEquals(384, ((VisionTransformer) m).config().imgSize());
            assertEquals(
                    new Shape(1, 1 + 24 * 24, 192),
                    m.stateDict().get("pos_embed").getShape());
            assertEquals(new Shape(2, 5), m.forward(input(s, 384)).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.forward(input(s, 224)));
        }
    }

    @Test
    void a224VitCheckpointLoadsAt384WithItsGridResampledAsLibtorchDoes() {
        Path file = checkpoint("vit_tiny_patch16_224", 3);
        try (ImageModel m = Models.createModel(
                        "vit_tiny_patch16_224", at(384).pretrainedFile(file).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ref = Checkpoints.load(file, s);
            NDArray saved = ref.get("pos_embed");
            NDArray loaded = m.stateDict().get("pos_embed");
            assertEquals(new Shape(1, 577, 192), loaded.getShape());
            // the class token's position is kept as it is, the 14 x 14 grid resized to 24 x 24
            assertEquals(0f, maxAbsDiff(saved.get(":, 0"), loaded.get(":, 0")));
            NDArray expected = libtorchResample(saved, 1, 24, DJL_BICUBIC);
            assertTrue(maxAbsDiff(expected, loaded) < 1e-6, "max diff " + maxAbsDiff(expected, loaded));
            // everything else loads unchanged
            String k = "blocks.3.attn.qkv.weight";
            assertEquals(0f, maxAbsDiff(ref.get(k), m.stateDict().get(k)));
            assertEquals(new Shape(2, 1000), m.forward(input(s, 384)).getShape());
        }
    }

    @Test
    void flexiVitResamplesBilinearlyAndItsPositionsHaveNoPrefix() {
        // timm loads FlexiViT with bilinear, non-antialiased resampling; upsampled, both kernels agree
        Path file = checkpoint("flexivit_small", 5);
        try (ImageModel m = Models.createModel(
                        "flexivit_small", at(384).pretrainedFile(file).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ref = Checkpoints.load(file, s);
            NDArray saved = ref.get("pos_embed");
            assertEquals(new Shape(1, 225, 384), saved.getShape());
            NDArray loaded = m.stateDict().get("pos_embed");
            NDArray expected = libtorchResample(saved, 0, 24, DJL_BILINEAR);
            assertEquals(expected.getShape(), loaded.getShape());
            assertTrue(maxAbsDiff(expected, loaded) < 1e-6, "max diff " + maxAbsDiff(expected, loaded));
            NDArray bicubic = libtorchResample(saved, 0, 24, DJL_BICUBIC);
            assertTrue(maxAbsDiff(bicubic, loaded) > 1e-4, "bilinear, not bicubic");
        }
    }

    @Test
    void aDistilledDeitAt384KeepsBothPrefixTokens() {
        Path file = checkpoint("deit_tiny_distilled_patch16_224", 7);
        try (ImageModel m = Models.createModel(
                        "deit_tiny_distilled_patch16_224",
                        at(384).pretrainedFile(file).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ref = Checkpoints.load(file, s);
            NDArray saved = ref.get("pos_embed");
            NDArray loaded = m.stateDict().get("pos_embed");
            assertEquals(new Shape(1, 2 + 576, 192), loaded.getShape());
            assertEquals(0f, maxAbsDiff(saved.get(":, :2"), loaded.get(":, :2")));
            NDArray expected = libtorchResample(saved, 2, 24, DJL_BICUBIC);
            assertTrue(maxAbsDiff(expected, loaded) < 1e-6, "max diff " + maxAbsDiff(expected, loaded));
            assertEquals(new Shape(1, 1000), m.forward(input(s, 1, 3, 384)).getShape());
        }
    }

    @Test
    void aNameTagWhosePretrainedConfigIs384BuildsAt384() {
        // a registry whose vit_tiny_patch16_384 is declared at 224: as timm passes the pretrained config's input
        // size as img_size, the tag's 384 decides
        ModelFamily family = new ModelFamily() {
            @Override
            public String name() {
                return "vision_transformer";
            }

            @Override
            public List<ModelEntry> models() {
                VisionTransformer.Config at224 = VisionTransformer.Config.of(224, 16, 192, 12, 3);
                return List.of(new ModelEntry(
                                "vit_tiny_patch16_384",
                                "vision_transformer",
                                args -> new VisionTransformer(at224, args),
                                VisionTransformer.vitCfg("vit_tiny_patch16_384", 224),
                                "token")
                        .takingImgSize());
            }
        };
        ModelRegistry registry = ModelRegistry.fromFamilies(List.of(family));
        String tagged = "vit_tiny_patch16_384.augreg_in21k_ft_in1k";
        assertEquals(384, registry.config(tagged).inputSize().get(2));
        try (ImageModel m = Models.createModel(registry, tagged, ModelOptions.defaults())) {
            assertEquals(384, ((VisionTransformer) m).config().imgSize());
            assertEquals(new Shape(1, 577, 192), m.stateDict().get("pos_embed").getShape());
            assertEquals(List.of(3, 384, 384), m.pretrainedCfg().inputSize());
        }
        // an explicit size still wins over the tag's
        try (ImageModel m = Models.createModel(registry, tagged, at(224).build())) {
            assertEquals(new Shape(1, 197, 192), m.stateDict().get("pos_embed").getShape());
            assertEquals(List.of(3, 224, 224), m.pretrainedCfg().inputSize());
        }
    }

    @Test
    void modelsThatRunAtAnySizeRefuseImgSize() {
        JimmException e = assertThrows(JimmException.class, () -> Models.createModel("resnet18", at(320).build()));
        assertTrue(e.getMessage().contains("resnet18") && e.getMessage().contains("imgSize"), e.getMessage());
    }

    @Test
    void swinAt160ResizesTheBiasTablesOfItsClippedWindows() {
        // at 160 the stages are 40, 20, 10 and 5 patches: the last stage's windows clip from 7 to 5
        String name = "swin_tiny_patch4_window7_224";
        Path file = checkpoint(name, 11);
        try (ImageModel m =
                        Models.createModel(name, at(160).pretrainedFile(file).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ref = Checkpoints.load(file, s);
            assertEquals(List.of(3, 160, 160), m.pretrainedCfg().inputSize());
            String last = "layers.3.blocks.1.attn.relative_position_bias_table";
            NDArray saved = ref.get(last);
            NDArray loaded = m.stateDict().get(last);
            assertEquals(new Shape(169, 24), saved.getShape());
            assertEquals(new Shape(81, 24), loaded.getShape());
            assertEquals(0f, maxAbsDiff(PosEmbed.resizeRelPosBiasTable(saved, 5, 5, 81), loaded));
            // the middle of the grid (offset 0, 0) keeps its value
            assertEquals(0f, maxAbsDiff(saved.get("84"), loaded.get("40")));
            String kept = "layers.2.blocks.0.attn.relative_position_bias_table";
            assertEquals(0f, maxAbsDiff(ref.get(kept), m.stateDict().get(kept)));
            assertEquals(new Shape(1, 1000), m.forward(input(s, 1, 3, 160)).getShape());
        }
    }

    @Test
    void swinV2LoadsAnotherSizesCheckpointAsItIsAndDropsTheRebuiltBuffers() {
        // the continuous position bias has nothing to resample; the windows clip (8 to 6 at 192)
        String name = "swinv2_tiny_window8_256";
        Path file = checkpoint(name, 13);
        try (NDManager s = NDManager.newBaseManager()) {
            Map<String, NDArray> sd = new LinkedHashMap<>(Checkpoints.load(file, s));
            sd.put("layers.0.blocks.0.attn.relative_coords_table", s.zeros(new Shape(1, 15, 15, 2)));
            sd.put("layers.0.blocks.0.attn.relative_position_index", s.zeros(new Shape(64, 64)));
            Path withBuffers = tmp.resolve("with_buffers.safetensors");
            SafetensorsWriter.write(withBuffers, sd, Map.of());
            try (ImageModel m =
                    Models.createModel(name, at(192).pretrainedFile(withBuffers).build())) {
                String k = "layers.3.blocks.1.attn.cpb_mlp.0.weight";
                assertEquals(0f, maxAbsDiff(sd.get(k), m.stateDict().get(k)));
                assertEquals(new Shape(1, 1000), m.forward(input(s, 1, 3, 192)).getShape());
            }
        }
    }
}
