package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Reparameterization;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's FastViTs and MCi towers: sizes, stage layouts, re-parameterisation and the original-checkpoint remap. */
class FastVitApiTest {
    /**
     * timm's published parameter counts (results/benchmark-infer-*-pt240-*.csv, 1000 classes for the FastViTs and the
     * MCi towers' own 512), millions to two decimals. MCi3 and MCi4 are only published fused: see
     * {@link #reparameterizedCountsMatchTimmsFusedBenchmark}.
     */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "fastvit_t8", 4.03,
            "fastvit_t12", 7.55,
            "fastvit_s12", 9.47,
            "fastvit_sa12", 11.58,
            "fastvit_sa24", 21.55,
            "fastvit_sa36", 31.53,
            "fastvit_ma36", 44.07,
            "fastvit_mci0", 11.41,
            "fastvit_mci1", 21.54,
            "fastvit_mci2", 35.82);

    private static long count(String name, int classes) {
        ModelEntry e = ModelRegistry.builtIn().entry(name);
        return ModelTesting.paramCount(e.factory().apply(new ModelArgs(classes, 3, "avg", 0, 0)));
    }

    private static int classes(String name) {
        return name.startsWith("fastvit_mci") ? 512 : 1000;
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            double millions = Math.round(count(e.getKey(), classes(e.getKey())) / 1e4) / 100.0;
            if (Math.abs(millions - e.getValue()) > 1e-9) {
                wrong.add(e.getKey() + ": " + millions + "M, timm " + e.getValue());
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(12, ModelTesting.registeredNames("fastvit").size());
    }

    @Test
    void mciLargeTowersHaveFiveStagesAndLayerNormedAttention() {
        ImageModel m = ModelTesting.unbuilt("fastvit_mci3");
        Map<String, Shape> s = m.stateDictShapes();
        assertEquals(5, m.featureInfo().size());
        assertEquals(64, m.featureInfo().get(4).reduction());
        assertEquals(3072, m.numFeatures());
        assertFalse(s.containsKey("stem.0.conv_scale.conv.weight"), "no 1x1 branch in the MCi3/4 stem");
        assertEquals(new Shape(768), s.get("stages.3.blocks.0.norm.weight"));
        assertFalse(s.containsKey("stages.3.blocks.0.norm.running_mean"), "LayerNorm2d, not BatchNorm");
        assertEquals(new Shape(1536, 1, 7, 7), s.get("stages.4.pos_emb.pos_enc.weight"));
        // MCi0-2: SE in the last two patch embeddings
        Map<String, Shape> mci0 = ModelTesting.unbuilt("fastvit_mci0").stateDictShapes();
        assertEquals(new Shape(64, 256, 1, 1), mci0.get("stages.2.downsample.proj.0.se.fc1.weight"));
        assertFalse(mci0.containsKey("stages.1.downsample.proj.0.se.fc1.weight"));
    }

    @Test
    void reparameterizingKeepsTheEvalOutputs() {
        for (String name : List.of("fastvit_t8", "fastvit_mci0")) {
            try (FastVit m = (FastVit) Models.createModel(name);
                    NDManager s = m.getManager().newSubManager()) {
                ReferenceInit.apply(m, 0.5);
                NDArray x = input(s, 96);
                float[] before = m.forward(x).toFloatArray();
                NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
                m.reparameterize();
                Map<String, NDArray> sd = m.stateDict();
                assertTrue(sd.keySet().stream().noneMatch(k -> k.contains("conv_kxk") || k.contains("identity")), name);
                assertTrue(
                        sd.keySet().stream()
                                .noneMatch(k -> k.contains("token_mixer.mixer") || k.contains("large_conv")),
                        name);
                long e0 = m.featureInfo().get(0).numChs();
                assertEquals(
                        new Shape(e0, 3, 3, 3),
                        sd.get("stem.0.reparam_conv.weight").getShape(),
                        name);
                assertTrue(sd.containsKey("stages.0.blocks.0.token_mixer.reparam_conv.bias"), name);
                assertTrue(sd.containsKey("final_conv.se.fc1.weight"), name + ": SE stays");
                assertTrue(sd.containsKey("stages.0.blocks.0.mlp.conv.bn.running_var"), name + ": ConvMlp stays");
                double err = ParityRunner.relativeError(m.forward(x).toFloatArray(), before);
                assertTrue(err < 1e-5, name + " reparameterized logits differ by " + err);
                NDList after = m.forwardIntermediates(x, m.allFeatureIndices());
                for (int i = 0; i < levels.size(); i++) {
                    double e = ParityRunner.relativeError(
                            after.get(i).toFloatArray(), levels.get(i).toFloatArray());
                    assertTrue(e < 1e-5, name + " level " + i + " differs by " + e);
                }
            }
        }
    }

    @Test
    void reparameterizedSaModelHasOneConvPerPositionEncoding() {
        try (FastVit m = (FastVit) Models.createModel("fastvit_sa12");
                NDManager s = m.getManager().newSubManager()) {
            ReferenceInit.apply(m, 0.5);
            NDArray x = input(s, 64);
            float[] before = m.forward(x).toFloatArray();
            m.reparameterize();
            assertEquals(
                    new Shape(512, 1, 7, 7),
                    m.stateDict().get("stages.3.pos_emb.reparam_conv.weight").getShape());
            double err = ParityRunner.relativeError(m.forward(x).toFloatArray(), before);
            assertTrue(err < 1e-5, "sa12 reparameterized logits differ by " + err);
            assertEquals(0, Reparameterization.apply(m), "the inference form stays as it is");
        }
    }

    @Test
    void reparameterizedCountsMatchTimmsFusedBenchmark() {
        // timm's pt291 benchmark tables count the re-parameterised models: t8 4.00M, mci0 11.36M (512 classes)
        try (FastVit m = (FastVit) Models.createModel("fastvit_t8")) {
            m.reparameterize();
            assertEquals(4.00, Math.round(m.numParameters() / 1e4) / 100.0, 1e-9);
        }
        try (FastVit m = (FastVit) Models.createModel(
                "fastvit_mci0", ModelOptions.builder().numClasses(512).build())) {
            m.reparameterize();
            assertEquals(11.36, Math.round(m.numParameters() / 1e4) / 100.0, 1e-9);
        }
    }

    @Test
    void originalCheckpointsAreRenamedToTimmsStages() {
        try (FastVit m = (FastVit) Models.createModel("fastvit_sa12");
                NDManager s = m.getManager().newSubManager()) {
            NDArray any = s.zeros(new Shape(1));
            Map<String, NDArray> orig = new LinkedHashMap<>();
            // Apple's flat list: blocks, proj, blocks, proj, blocks, proj, pe, blocks
            String[] keys = {
                "patch_embed.0.rbr_conv.0.conv.weight",
                "patch_embed.2.rbr_skip.running_var",
                "network.0.1.token_mixer.mixer.rbr_scale.bn.weight",
                "network.0.0.layer_scale",
                "network.1.proj.0.lkb_origin.conv.weight",
                "network.2.0.convffn.fc1.weight",
                "network.3.proj.0.lkb_origin.bn.running_mean",
                "network.5.proj.1.rbr_conv.0.bn.bias",
                "network.6.pe.weight",
                "network.7.1.layer_scale_2",
                "conv_exp.se.reduce.weight",
                "head.weight",
            };
            String[] timm = {
                "stem.0.conv_kxk.0.conv.weight",
                "stem.2.identity.running_var",
                "stages.0.blocks.1.token_mixer.mixer.conv_scale.bn.weight",
                "stages.0.blocks.0.layer_scale.gamma",
                "stages.1.downsample.proj.0.large_conv.conv.weight",
                "stages.1.blocks.0.mlp.fc1.weight",
                "stages.2.downsample.proj.0.large_conv.bn.running_mean",
                "stages.3.downsample.proj.1.conv_kxk.0.bn.bias",
                "stages.3.pos_emb.pos_enc.weight",
                "stages.3.blocks.1.layer_scale_2.gamma",
                "final_conv.se.fc1.weight",
                "head.fc.weight",
            };
            for (String k : keys) {
                orig.put(k, any);
            }
            assertEquals(List.of(timm), List.copyOf(m.prepareForPretrained(orig).keySet()));

            // MobileCLIP: the image encoder's keys only, and the CLIP projection as a Linear with zero bias
            Map<String, NDArray> clip = new LinkedHashMap<>();
            clip.put("image_encoder.model.patch_embed.0.rbr_conv.0.conv.weight", any);
            clip.put("text_encoder.proj", any);
            NDArray proj = s.arange(6f).reshape(2, 3);
            clip.put("image_encoder.model.head.proj", proj);
            Map<String, NDArray> out = m.prepareForPretrained(clip);
            assertEquals(
                    List.of("stem.0.conv_kxk.0.conv.weight", "head.fc.bias", "head.fc.weight"),
                    List.copyOf(out.keySet()));
            assertEquals(new Shape(3, 2), out.get("head.fc.weight").getShape());
            assertArrayEquals(
                    new float[] {0, 3, 1, 4, 2, 5}, out.get("head.fc.weight").toFloatArray());
            assertArrayEquals(new float[3], out.get("head.fc.bias").toFloatArray());

            Map<String, NDArray> timmCkpt = Map.of("stem.0.conv_kxk.0.conv.weight", any, "network.0", any);
            assertEquals(timmCkpt, m.prepareForPretrained(timmCkpt), "timm checkpoints pass unchanged");
        }
    }
}
