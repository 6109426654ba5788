package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The torch.save readers checked against the expected outputs now, without waiting for the SqueezeNet model port:
 * torchvision's squeezenet1_1 forward written out with DJL ops in the test, fed the state dict each reader returns.
 * (RealCheckpointsTest does the same through the models.)
 */
class SqueezeNetOutputsTest {
    static NDArray conv(NDArray x, Map<String, NDArray> sd, String name, int stride, int pad) {
        NDList y = Conv2d.conv2d(
                x,
                sd.get(name + ".weight"),
                sd.get(name + ".bias"),
                new Shape(stride, stride),
                new Shape(pad, pad),
                new Shape(1, 1),
                1);
        return y.singletonOrThrow();
    }

    static NDArray relu(NDArray x) {
        return x.maximum(0f);
    }

    static NDArray pool(NDArray x) {
        return Pool.maxPool2d(x, new Shape(3, 3), new Shape(2, 2), new Shape(0, 0), true);
    }

    static NDArray fire(NDArray x, Map<String, NDArray> sd, int i) {
        String p = "features." + i + ".";
        NDArray s = relu(conv(x, sd, p + "squeeze", 1, 0));
        return relu(conv(s, sd, p + "expand1x1", 1, 0)).concat(relu(conv(s, sd, p + "expand3x3", 1, 1)), 1);
    }

    /** torchvision.models.squeezenet1_1 in eval mode (dropout is the identity). */
    static NDArray squeezenet11(NDArray x, Map<String, NDArray> sd) {
        NDArray y = pool(relu(conv(x, sd, "features.0", 2, 0)));
        y = fire(fire(y, sd, 3), sd, 4);
        y = pool(y);
        y = fire(fire(y, sd, 6), sd, 7);
        y = pool(y);
        y = fire(fire(fire(fire(y, sd, 9), sd, 10), sd, 11), sd, 12);
        y = relu(conv(y, sd, "classifier.1", 1, 0));
        return y.mean(new int[] {3}).mean(new int[] {2});
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "squeezenet1_1.pth, squeezenet1_1",
        "squeezenet1_1.legacy.pth, squeezenet1_1",
        "squeezenet1_1.checkpoint.pth, squeezenet1_1.checkpoint",
    })
    void torchSaveFilesGiveTheExpectedOutputs(String file, String expectedKey) {
        try (NDManager m = NDManager.newBaseManager();
                SafetensorsFile exp =
                        SafetensorsFile.open(TorchCheckpointTest.weights("expected_outputs.safetensors"))) {
            float[] expected = exp.floats(expectedKey, m);
            Map<String, NDArray> sd = Checkpoints.load(TorchCheckpointTest.weights(file), m);
            NDArray y = squeezenet11(ReferenceInit.input(m, new Shape(2, 3, 224, 224), 0), sd);
            assertEquals(new Shape(2, 1000), y.getShape());
            double err = ParityRunner.relativeError(y.toFloatArray(), expected);
            assertTrue(err <= ParityRunner.TOLERANCE, file + ": relative error " + err);
        }
    }
}
