package dev.jimm.cli;

import dev.jimm.JimmException;
import dev.jimm.NativeTuning;
import dev.jimm.StoppedException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code jimm} command line. Each subcommand is a class of this package; errors print one line (the stack trace
 * only with {@code --debug}) and exit non-zero: 2 for a bad argument, 1 otherwise. SIGTERM and SIGINT stop
 * {@code train}, {@code lr-find}, {@code eval} and {@code demo} at a safe point, with one line and exit status 143 or
 * 130 ({@link StopSignals}).
 */
@Command(
        name = "jimm",
        mixinStandardHelpOptions = true,
        version = "jimm 0.1.0",
        description = "Java Image Models: timm and torchvision models by name, checkpoints, training.",
        subcommands = {
            ModelsCommand.class,
            InfoCommand.class,
            SummaryCommand.class,
            ParityCommand.class,
            DemoCommand.class,
            TrainCommand.class,
            LrFindCommand.class,
            EvalCommand.class,
            PredictCommand.class,
            InspectImageCommand.class,
            InspectCheckpointCommand.class,
            BenchCommand.class,
            SparkCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    /** The subcommands that run libtorch (the others should not pay for loading it). */
    private static final Set<String> COMPUTE_COMMANDS =
            Set.of("train", "lr-find", "eval", "predict", "bench", "demo", "parity", "summary");

    /** The subcommands that stop at a safe point on SIGTERM or SIGINT (the others keep the JVM's handling). */
    private static final Set<String> STOPPABLE_COMMANDS = Set.of("train", "lr-find", "eval", "demo");

    /** Exit status for a bad argument or an unknown name. */
    public static final int EXIT_USAGE = 2;

    @Option(names = "--debug", description = "Show stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        if (args.length > 0 && COMPUTE_COMMANDS.contains(args[0])) {
            // before the first libtorch operation, so that its worker threads inherit the setting
            NativeTuning.apply();
        }
        if (args.length > 0 && STOPPABLE_COMMANDS.contains(args[0])) {
            StopSignals.install();
        }
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit status (used by tests too). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("jimm: " + ex.getMessage());
            err.println("Try 'jimm " + commandPath(ex.getCommandLine()) + "--help' for usage.");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (debug) {
                ex.printStackTrace(err);
            }
            err.println("jimm: " + oneLine(ex));
            if (ex instanceof StoppedException) {
                return StopSignals.exitStatus();
            }
            return ex instanceof JimmException || ex instanceof IllegalArgumentException ? EXIT_USAGE : 1;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static String commandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c.getParent() != null; c = c.getParent()) {
            sb.insert(0, c.getCommandName() + " ");
        }
        return sb.toString();
    }

    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
