package dev.jimm.samples.quickstart;

// README begin: journey 1
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.models.FeatureExtractor;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
// README end

/** Journey 1: a model by name, its logits, feature maps, pooled features and a features-only pyramid. */
public final class ModelByName {
    private ModelByName() {}

    public static void main(String[] args) {
        run();
    }

    static void run() {
        // README begin: journey 1
        // timm's create_model: 10 classes, average pooling, random init (add .pretrained(true) for the hub's
        // weights, or .pretrainedFile(path) for a checkpoint of yours)
        try (ImageModel model = Models.createModel("resnet18d",
                        ModelOptions.builder().numClasses(10).globalPool("avg").build());
                NDManager batch = NDManager.newBaseManager()) {          // the arrays of this batch
            NDArray images = batch.randomUniform(0, 1, new Shape(2, 3, 224, 224));
            NDArray logits = model.forward(images);                       // [2, 10]
            NDArray maps = model.forwardFeatures(images);                 // [2, 512, 7, 7]
            NDArray pooled = model.forwardHead(maps, true);               // pre-logits [2, 512]
            System.out.println("logits " + logits.getShape() + ", features " + maps.getShape()
                    + ", pre-logits " + pooled.getShape());
        }                                                                 // frees the weights, then the batch

        // timm's features_only: the maps of chosen levels, with their channels and strides
        try (FeatureExtractor pyramid = Models.createFeatureExtractor("resnet50",
                        ModelOptions.builder().featuresOnly(1, 2, 3, 4).build());
                NDManager batch = NDManager.newBaseManager()) {
            NDList levels = pyramid.forwardFeatures(batch.randomUniform(0, 1, new Shape(1, 3, 224, 224)));
            for (NDArray level : levels) {
                System.out.println("level " + level.getShape());          // [1, 256, 56, 56] ... [1, 2048, 7, 7]
            }
        }

        System.out.println(Models.listModels("resnet1*"));               // resnet10t, resnet14t, resnet18, ...
        System.out.println(Models.listPretrained("resnet18"));           // resnet18.a1_in1k, ...
        // README end
    }
}
