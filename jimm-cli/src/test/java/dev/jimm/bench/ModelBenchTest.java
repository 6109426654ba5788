package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.train.MemoryMonitor;
import org.junit.jupiter.api.Test;

/** The bench's bare training loop leaves no array of its steps behind. */
class ModelBenchTest {

    @Test
    void theBareLoopFreesEveryStepsArrays() {
        try (ImageModel model = Models.createModel(
                        "resnet10t", ModelOptions.builder().numClasses(10).build());
                NDManager data = model.getManager().newSubManager()) {
            NDArray x = data.randomNormal(new Shape(2, 3, 32, 32));
            NDArray y = data.randomInteger(0, 10, new Shape(2), DataType.INT64);
            int params = model.namedParameters().size();
            int before = MemoryMonitor.liveArrays();
            // three steps: the later two update with the Adam state the first one made
            ModelBench.Train t = ModelBench.bareTrain(model, x, y, 1, 2);
            assertTrue(t.imgS() > 0, "images/s " + t.imgS());
            // the first step's activations once stayed for the model's whole bench (124 more arrays
            // here); Adam's state lives on, but not among the arrays the managers count
            assertEquals(before, MemoryMonitor.liveArrays(), params + " parameters");
        }
    }
}
