package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TvMobileNetParityTest {
    /*
     * Under the reference init EfficientNetV2-S blows its activations up to ~1e6 and its output is
     * chaotic in float32: scaling the input by 1 + 1e-6 moves our logits by 0.52 (relative, the
     * fixture's measure), and the same model run in float64 differs from its float32 run by 0.44
     * and from the fixture by 0.41 (ours in float32: 0.43). Its blocks are the ones EfficientNet-B0
     * matches to 2e-7 (B0 is not bit-exact: exp, inside SiLU and sigmoid, differs between our
     * libtorch and the fixture's torch, while the exp-free MobileNets match bit for bit), and the
     * logits' statistics agree with the fixture's (std 4.48e5 vs 4.45e5, max 1.87e6 vs 1.80e6).
     * Only a bit-exact replay of torch's kernels could meet 1e-4 here, so the fixture is not in
     * this list (PyTorch 1.13's own torchvision misses it by 0.46 too: scripts/torch_reference_check.py); the
     * state_dict keys, shapes and order are checked in {@code TvMobileNetApiTest}.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "tv__mobilenet_v2", "tv__mobilenet_v3_small", "tv__mobilenet_v3_large", "tv__efficientnet_b0"})
    void matchesReference(String fixture) {
        run(fixture);
    }

    private static void run(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
