package dev.jimm.hub;

import dev.jimm.JimmException;
import dev.jimm.JimmHome;
import dev.jimm.data.DownloadException;
import dev.jimm.data.Downloads;
import dev.jimm.models.PretrainedCfg;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where pretrained weights come from and where they are kept. A pretrained config names a Hugging Face hub repository
 * ({@code {endpoint}/{hf_hub_id}/resolve/main/model.safetensors}, else {@code pytorch_model.bin}, as timm loads them)
 * or a direct URL (torchvision's, whose file name carries the first hex digits of the file's SHA-256, checked as
 * torch.hub does). A hub file is checked against the SHA-256 the hub sends with its redirect to the CDN (the
 * {@code X-Linked-Etag} of a file stored with Git LFS, as weights are); one that comes without it (kept in git itself,
 * or from a mirror that does not send it) is accepted unchecked. Files are cached under {@code JIMM_HOME} (default
 * {@code ~/.cache/jimm}); downloads resume, show a progress bar on stderr, and are renamed into the cache only once
 * complete and verified. Offline ({@code JIMM_OFFLINE=1}, or when the host cannot be reached), only the cache is used,
 * and a missing file is an error giving the URL to fetch and the exact path to put it at.
 *
 * <p>Settings come from system properties, else environment variables: {@code jimm.home} / {@code JIMM_HOME},
 * {@code jimm.offline} / {@code JIMM_OFFLINE}, {@code jimm.hf.endpoint} / {@code JIMM_HF_ENDPOINT} (or
 * {@code HF_ENDPOINT}), {@code jimm.torchvision.base} / {@code JIMM_TORCHVISION_BASE} (replacing
 * {@code https://download.pytorch.org}).
 */
public final class WeightHub {
    private static final Logger LOG = LoggerFactory.getLogger(WeightHub.class);
    /** The Hugging Face hub. */
    public static final String HF_ENDPOINT = "https://huggingface.co";
    /** torchvision's download host, as its weight URLs start. */
    public static final String TORCHVISION_BASE = "https://download.pytorch.org";
    /** Files tried in a hub repository, in timm's order. */
    public static final List<String> HF_FILES = List.of("model.safetensors", "pytorch_model.bin");

    private static final Pattern SAFE_SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+-]*");

    /**
     * The hub's settings.
     *
     * @param home cache root; weights go under {@code home/hub}
     * @param offline use the cache only
     * @param hfEndpoint base URL of the Hugging Face hub
     * @param torchvisionBase replaces {@code https://download.pytorch.org} in torchvision's URLs
     * @param progress where the progress bar goes, or null for none
     */
    public record Settings(
            Path home, boolean offline, String hfEndpoint, String torchvisionBase, PrintStream progress) {
        /** Settings from system properties and environment variables (see the class comment). */
        public static Settings fromEnvironment() {
            return from(System::getProperty, System::getenv);
        }

        /** Settings from the given property and environment lookups (for tests and embedding). */
        public static Settings from(Function<String, String> properties, Function<String, String> env) {
            Path h = JimmHome.from(properties, env);
            String off = first(properties.apply("jimm.offline"), env.apply("JIMM_OFFLINE"));
            boolean offline =
                    off != null && (off.equals("1") || off.equalsIgnoreCase("true") || off.equalsIgnoreCase("yes"));
            String hf = first(
                    properties.apply("jimm.hf.endpoint"),
                    first(env.apply("JIMM_HF_ENDPOINT"), env.apply("HF_ENDPOINT")));
            String tv = first(properties.apply("jimm.torchvision.base"), env.apply("JIMM_TORCHVISION_BASE"));
            return new Settings(
                    h, offline, hf == null ? HF_ENDPOINT : hf, tv == null ? TORCHVISION_BASE : tv, System.err);
        }

        private static String first(String a, String b) {
            return a != null && !a.isBlank() ? a : (b != null && !b.isBlank() ? b : null);
        }

        public Settings withHome(Path newHome) {
            return new Settings(newHome, offline, hfEndpoint, torchvisionBase, progress);
        }

        public Settings withOffline(boolean value) {
            return new Settings(home, value, hfEndpoint, torchvisionBase, progress);
        }

        public Settings withProgress(PrintStream out) {
            return new Settings(home, offline, hfEndpoint, torchvisionBase, out);
        }
    }

    /**
     * One place weights of a config can come from.
     *
     * @param url where to download them
     * @param cacheFile where they are kept
     * @param checksum the expected SHA-256 (or its prefix), or null when unknown beforehand
     * @param fromHfHub a Hugging Face hub file, whose SHA-256 the hub gives when it is downloaded
     *     ({@link Downloads#hubSha256})
     */
    public record Source(URI url, Path cacheFile, Downloads.Checksum checksum, boolean fromHfHub) {}

    /**
     * The weights file for a config.
     *
     * @param file the local file
     * @param source where it came from
     * @param fromCache whether it was already in the cache
     */
    public record Fetched(Path file, Source source, boolean fromCache) {}

    private final Settings settings;
    private final Downloads downloads;

    public WeightHub(Settings settings, Downloads downloads) {
        this.settings = settings;
        this.downloads = downloads;
    }

    public WeightHub(Settings settings) {
        this(settings, new Downloads());
    }

    /** A hub with {@link Settings#fromEnvironment()}. */
    public static WeightHub fromEnvironment() {
        return new WeightHub(Settings.fromEnvironment());
    }

    public Settings settings() {
        return settings;
    }

    /** The cache folder for weights: {@code home/hub}. */
    public Path cacheDir() {
        return settings.home().resolve("hub");
    }

    /** Where a config's weights can come from, in the order tried. */
    public List<Source> sources(PretrainedCfg cfg) {
        List<Source> out = new ArrayList<>();
        if (!cfg.hfHubId().isEmpty()) {
            String id = cfg.hfHubId();
            String revision = "main";
            int at = id.indexOf('@');
            if (at > 0) {
                revision = id.substring(at + 1);
                id = id.substring(0, at);
            }
            Path dir = cacheDir().resolve("huggingface");
            for (String seg : id.split("/")) {
                if (!SAFE_SEGMENT.matcher(seg).matches() || seg.contains("..")) {
                    throw new JimmException("pretrained config " + cfg.fullName() + " has a hub id '" + cfg.hfHubId()
                            + "' that is not a repository name");
                }
                dir = dir.resolve(seg);
            }
            if (!revision.equals("main")) {
                dir = dir.resolve("@" + revision);
            }
            String base = trimSlash(settings.hfEndpoint()) + "/" + id + "/resolve/" + revision + "/";
            for (String f : HF_FILES) {
                out.add(new Source(URI.create(base + f), dir.resolve(f), null, true));
            }
            return out;
        }
        if (!cfg.url().isEmpty()) {
            String url = cfg.url();
            boolean tv = url.startsWith(TORCHVISION_BASE + "/");
            if (tv) {
                url = trimSlash(settings.torchvisionBase()) + url.substring(TORCHVISION_BASE.length());
            }
            String name = url.substring(url.lastIndexOf('/') + 1);
            int q = name.indexOf('?');
            if (q >= 0) {
                name = name.substring(0, q);
            }
            if (!SAFE_SEGMENT.matcher(name).matches()) {
                throw new JimmException(
                        "pretrained config " + cfg.fullName() + " has a URL without a usable file name: " + cfg.url());
            }
            Downloads.Checksum sum = null;
            if (!cfg.fileSha256().isEmpty()) {
                sum = Downloads.Checksum.sha256Prefix(cfg.fileSha256());
            }
            out.add(new Source(
                    URI.create(url),
                    cacheDir().resolve(tv ? "torchvision" : "url").resolve(name),
                    sum,
                    false));
        }
        return out;
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** The cached weights of a config, or null. */
    public Fetched cached(PretrainedCfg cfg) {
        for (Source s : sources(cfg)) {
            if (Files.isRegularFile(s.cacheFile())) {
                return new Fetched(s.cacheFile(), s, true);
            }
        }
        return null;
    }

    /**
     * The weights file of a config: from the cache (one log line says so), else downloaded. Offline, or when the host
     * cannot be reached, a missing file is an error giving the URL and the path.
     */
    public Fetched fetch(PretrainedCfg cfg) {
        List<Source> sources = sources(cfg);
        if (sources.isEmpty()) {
            throw new JimmException(
                    "pretrained config " + cfg.fullName() + " names no hub repository or URL to download from");
        }
        Fetched hit = cached(cfg);
        if (hit != null) {
            LOG.info("{}: using cached weights {}", cfg.fullName(), hit.file());
            return hit;
        }
        if (settings.offline()) {
            throw offline(cfg, sources.get(0), "offline mode (JIMM_OFFLINE)");
        }
        List<String> notFound = new ArrayList<>();
        for (Source s : sources) {
            Downloads.Progress p = settings.progress() == null
                    ? Downloads.Progress.none()
                    : new ProgressBar(settings.progress(), cfg.fullName());
            // a hub file's SHA-256 comes with the redirect to its CDN, so it is asked for before each download
            Downloads.Checksum expected = s.checksum() != null || !s.fromHfHub()
                    ? s.checksum()
                    : downloads.hubSha256(s.url()).orElse(null);
            try {
                Path f = downloads.fetchResumable(s.url(), s.cacheFile(), expected, p);
                LOG.info("{}: downloaded {} to {}", cfg.fullName(), s.url(), f);
                return new Fetched(f, s, false);
            } catch (DownloadException e) {
                if (e.unreachable()) {
                    throw offline(cfg, s, "cannot reach " + s.url().getHost() + " (" + e.getMessage() + ")");
                }
                if (e.status() == 404 && sources.size() > 1) {
                    notFound.add(s.url().toString());
                    continue;
                }
                throw e;
            }
        }
        throw new JimmException(
                "no weights for " + cfg.fullName() + ": HTTP 404 for " + String.join(" and ", notFound));
    }

    private static JimmException offline(PretrainedCfg cfg, Source s, String why) {
        return new JimmException(why + ": the weights of " + cfg.fullName() + " are not in the cache; download "
                + s.url() + " and put the file at " + s.cacheFile().toAbsolutePath());
    }

    /** A readable summary of the settings, for messages. */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "WeightHub[home=%s, offline=%b, hf=%s, torchvision=%s]",
                settings.home(),
                settings.offline(),
                settings.hfEndpoint(),
                settings.torchvisionBase());
    }
}
