package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ReferenceInit;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** GlobalContext ('gca') against a plain scalar computation of attention pooling, LayerNorm MLP and the sum. */
class GlobalContextTest {
    @Test
    void keysFollowTimm() {
        Map<String, Shape> s = GlobalContext.gca(64).stateDictShapes();
        // rd = 64 / 8 = 8
        assertEquals(new Shape(1, 64, 1, 1), s.get("conv_attn.weight"));
        assertEquals(new Shape(8, 64, 1, 1), s.get("mlp_add.fc1.weight"));
        assertEquals(new Shape(8), s.get("mlp_add.norm.weight"));
        assertEquals(new Shape(64, 8, 1, 1), s.get("mlp_add.fc2.weight"));
        assertFalse(s.keySet().stream().anyMatch(k -> k.startsWith("mlp_scale")), "gca only adds");
    }

    @Test
    void addsTheTransformedAttentionPooledContext() {
        int c = 16;
        int rd = 2;
        int hw = 6;
        try (NDManager mgr = NDManager.newBaseManager()) {
            GlobalContext gc = GlobalContext.gca(c);
            gc.materialize(mgr);
            gc.initialize(new SplittableRandom(0));
            // the reference init's values, which leave no weight at zero
            ReferenceInit.apply(gc);
            NDArray input = ReferenceInit.input(mgr, new Shape(1, c, 2, 3), 3);
            float[] x = input.toFloatArray();
            Map<String, NDArray> sd = gc.stateDict();
            float[] wa = sd.get("conv_attn.weight").toFloatArray();
            float ba = sd.get("conv_attn.bias").toFloatArray()[0];
            float[] w1 = sd.get("mlp_add.fc1.weight").toFloatArray();
            float[] b1 = sd.get("mlp_add.fc1.bias").toFloatArray();
            float[] g = sd.get("mlp_add.norm.weight").toFloatArray();
            float[] beta = sd.get("mlp_add.norm.bias").toFloatArray();
            float[] w2 = sd.get("mlp_add.fc2.weight").toFloatArray();
            float[] b2 = sd.get("mlp_add.fc2.bias").toFloatArray();

            // softmax attention over the positions
            double[] logit = new double[hw];
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < hw; p++) {
                logit[p] = ba;
                for (int ch = 0; ch < c; ch++) {
                    logit[p] += wa[ch] * x[ch * hw + p];
                }
                max = Math.max(max, logit[p]);
            }
            double sum = 0;
            for (int p = 0; p < hw; p++) {
                logit[p] = Math.exp(logit[p] - max);
                sum += logit[p];
            }
            double[] context = new double[c];
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) {
                    context[ch] += x[ch * hw + p] * logit[p] / sum;
                }
            }
            // fc1, LayerNorm over the rd channels (eps 1e-6), ReLU, fc2
            double[] h = new double[rd];
            for (int r = 0; r < rd; r++) {
                h[r] = b1[r];
                for (int ch = 0; ch < c; ch++) {
                    h[r] += w1[r * c + ch] * context[ch];
                }
            }
            double mean = (h[0] + h[1]) / 2;
            double var = ((h[0] - mean) * (h[0] - mean) + (h[1] - mean) * (h[1] - mean)) / 2;
            for (int r = 0; r < rd; r++) {
                h[r] = Math.max(0, (h[r] - mean) / Math.sqrt(var + 1e-6) * g[r] + beta[r]);
            }
            float[] expected = new float[c * hw];
            for (int ch = 0; ch < c; ch++) {
                double add = b2[ch] + w2[ch * rd] * h[0] + w2[ch * rd + 1] * h[1];
                for (int p = 0; p < hw; p++) {
                    expected[ch * hw + p] = (float) (x[ch * hw + p] + add);
                }
            }
            assertArrayEquals(expected, gc.forward(input).toFloatArray(), 1e-4f);
        }
    }
}
