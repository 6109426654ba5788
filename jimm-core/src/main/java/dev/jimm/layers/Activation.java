package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.Locale;

/**
 * A parameterless activation as a module, so that it takes its index in a {@link Sequential} as PyTorch's does.
 * {@link #apply} gives the function alone.
 */
public class Activation extends Module {
    /** The activation functions timm and torchvision use. */
    public enum Kind {
        RELU,
        RELU6,
        SILU,
        GELU,
        GELU_TANH,
        SIGMOID,
        HARD_SIGMOID,
        HARD_SWISH,
        TANH,
        /** PyTorch's LeakyReLU with its default negative slope 0.01 (timm's "leaky_relu") */
        LEAKY_RELU,
        IDENTITY;

        /** Parses timm's names ("relu", "swish", "hard_swish", …). */
        public static Kind parse(String name) {
            String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
            return switch (n) {
                case "relu" -> RELU;
                case "relu6" -> RELU6;
                case "silu", "swish" -> SILU;
                case "gelu" -> GELU;
                case "gelu_tanh" -> GELU_TANH;
                case "sigmoid" -> SIGMOID;
                case "hard_sigmoid", "hardsigmoid" -> HARD_SIGMOID;
                case "hard_swish", "hardswish" -> HARD_SWISH;
                case "tanh" -> TANH;
                case "leaky_relu" -> LEAKY_RELU;
                case "identity", "" -> IDENTITY;
                default -> throw new IllegalArgumentException("unknown activation '" + name + "'");
            };
        }
    }

    /** nn.LeakyReLU's default negative slope, which timm's "leaky_relu" keeps. */
    private static final float LEAKY_RELU_SLOPE = 0.01f;

    private final Kind kind;

    public Activation(Kind kind) {
        this.kind = kind;
    }

    public static Activation relu() {
        return new Activation(Kind.RELU);
    }

    public Kind kind() {
        return kind;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return apply(kind, x);
    }

    /** Applies an activation function. */
    public static NDArray apply(Kind kind, NDArray x) {
        return switch (kind) {
            case RELU -> x.getNDArrayInternal().relu();
            case RELU6 -> x.clip(0f, 6f);
            case SILU -> x.mul(x.getNDArrayInternal().sigmoid());
            case GELU -> x.getNDArrayInternal().gelu();
            case GELU_TANH -> geluTanh(x);
            case SIGMOID -> x.getNDArrayInternal().sigmoid();
            case HARD_SIGMOID -> Scalars.div(x.add(3f).clip(0f, 6f), 6);
            case HARD_SWISH -> x.mul(Scalars.div(x.add(3f).clip(0f, 6f), 6));
            case TANH -> x.tanh();
            case LEAKY_RELU -> x.getNDArrayInternal().leakyRelu(LEAKY_RELU_SLOPE);
            case IDENTITY -> x;
        };
    }

    private static NDArray geluTanh(NDArray x) {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        NDArray inner = Scalars.mul(x.add(Scalars.mul(Scalars.pow(x, 3), 0.044715f)), (float) Math.sqrt(2 / Math.PI));
        return Scalars.mul(x, 0.5f).mul(inner.tanh().add(1f));
    }

    @Override
    protected String extraRepr() {
        return switch (kind) {
            case RELU -> "ReLU()";
            case RELU6 -> "ReLU6()";
            case SILU -> "SiLU()";
            case GELU -> "GELU()";
            case GELU_TANH -> "GELU(approximate='tanh')";
            case SIGMOID -> "Sigmoid()";
            case HARD_SIGMOID -> "Hardsigmoid()";
            case HARD_SWISH -> "Hardswish()";
            case TANH -> "Tanh()";
            case LEAKY_RELU -> "LeakyReLU(negative_slope=0.01)";
            case IDENTITY -> "Identity()";
        };
    }
}
