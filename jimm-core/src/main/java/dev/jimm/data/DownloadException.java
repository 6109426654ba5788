package dev.jimm.data;

import dev.jimm.JimmException;
import java.net.URI;

/** A download that failed: the URL, the HTTP status (0 when there was no response) and why. */
public class DownloadException extends JimmException {
    private static final long serialVersionUID = 1L;

    private final URI url;
    private final int status;
    private final boolean unreachable;

    public DownloadException(URI url, int status, boolean unreachable, String reason) {
        super(url + ": " + reason);
        this.url = url;
        this.status = status;
        this.unreachable = unreachable;
    }

    public URI url() {
        return url;
    }

    /** The HTTP status, or 0 when the failure was not an HTTP error response. */
    public int status() {
        return status;
    }

    /** Whether the host could not be reached at all (no network, unknown host, connection refused). */
    public boolean unreachable() {
        return unreachable;
    }
}
