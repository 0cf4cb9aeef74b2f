package approvalodds.mms;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.ai.mms.servingsdk.Context;
import software.amazon.ai.mms.servingsdk.ModelServerEndpoint;
import software.amazon.ai.mms.servingsdk.annotations.Endpoint;
import software.amazon.ai.mms.servingsdk.annotations.helpers.EndpointTypes;
import software.amazon.ai.mms.servingsdk.http.Request;
import software.amazon.ai.mms.servingsdk.http.Response;

/**
 * GET /metrics: the Prometheus text exposition of every Python worker, merged into one. MMS gives a plugin no channel
 * to the workers, so each worker writes its own exposition (handler/telemetry/prometheus.py, every METRICS_SNAPSHOT_SECONDS)
 * to CONTROL_DIR/metrics/PID.prom, every sample labelled worker="PID"; this plugin groups the samples of all live
 * workers family by family (one HELP and TYPE each, as the format requires), adds how many workers reported and how
 * old each snapshot is, and removes the files of dead workers. Keep in step with handler/telemetry/publisher.py.
 *
 * <p>SageMaker forwards only /ping and /invocations to a container: this is for local and Kubernetes use.
 */
@Endpoint(
        urlPattern = "metrics",
        endpointType = EndpointTypes.INFERENCE,
        description = "Prometheus text exposition of every worker's metrics")
public class PrometheusMetrics extends ModelServerEndpoint {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String DEFAULT_CONTROL_DIR = "/tmp/approval-odds/control";
    private static final String SUFFIX = ".prom";
    private static final String PREFIX = "approval_odds_";

    private final Path metricsDir;

    public PrometheusMetrics() {
        this(controlDirFromEnvironment().resolve("metrics"));
    }

    PrometheusMetrics(Path metricsDir) {
        this.metricsDir = metricsDir;
    }

    private static Path controlDirFromEnvironment() {
        String configured = System.getenv("CONTROL_DIR");
        return Paths.get(configured == null || configured.isBlank() ? DEFAULT_CONTROL_DIR : configured.trim());
    }

    @Override
    public void doGet(Request req, Response rsp, Context ctx) throws IOException {
        String body;
        try {
            body = merge(metricsDir, System.currentTimeMillis());
            rsp.setStatus(200);
            rsp.setContentType(CONTENT_TYPE);
        } catch (IOException e) {
            body = "metrics directory " + metricsDir + " is not readable: " + e + "\n";
            rsp.setStatus(500);
            rsp.setContentType("text/plain; charset=utf-8");
        }
        rsp.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }

    /** The merged exposition of the live workers' files in {@code dir}. */
    static String merge(Path dir, long nowMillis) throws IOException {
        Map<String, Family> families = new LinkedHashMap<>();
        Map<Long, Double> ages = new TreeMap<>();
        for (Path file : workerFiles(dir)) {
            long pid = pidOf(file);
            List<String> lines;
            try {
                double age = Math.max(0, nowMillis - Files.getLastModifiedTime(file).toMillis()) / 1000.0;
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                ages.put(pid, age);
            } catch (NoSuchFileException e) {
                continue; // the worker exited (and removed it) while we looked
            }
            Family current = null;
            for (String line : lines) {
                if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                    String name = line.substring(7).split(" ", 2)[0];
                    current = families.computeIfAbsent(name, key -> new Family());
                    current.header(line);
                } else if (!line.isBlank() && !line.startsWith("#") && current != null) {
                    current.samples.add(line);
                }
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("# HELP ").append(PREFIX).append("workers_reporting workers whose snapshot this merges\n");
        out.append("# TYPE ").append(PREFIX).append("workers_reporting gauge\n");
        out.append(PREFIX).append("workers_reporting ").append(ages.size()).append('\n');
        out.append("# HELP ").append(PREFIX).append("snapshot_age_seconds seconds since the worker wrote its figures\n");
        out.append("# TYPE ").append(PREFIX).append("snapshot_age_seconds gauge\n");
        ages.forEach(
                (pid, age) ->
                        out.append(PREFIX)
                                .append("snapshot_age_seconds{worker=\"")
                                .append(pid)
                                .append("\"} ")
                                .append(age)
                                .append('\n'));
        for (Family family : families.values()) {
            family.headers.forEach(line -> out.append(line).append('\n'));
            family.samples.forEach(line -> out.append(line).append('\n'));
        }
        return out.toString();
    }

    /** PID.prom files of live workers, in pid order; the files of dead workers are removed. */
    private static List<Path> workerFiles(Path dir) throws IOException {
        Map<Long, Path> live = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return new ArrayList<>();
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path entry : entries) {
                long pid = pidOf(entry);
                if (pid < 0) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    live.put(pid, entry);
                } else {
                    Files.deleteIfExists(entry);
                }
            }
        }
        return new ArrayList<>(live.values());
    }

    private static long pidOf(Path file) {
        String name = file.getFileName().toString();
        try {
            return Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }

    /** One metric family: its HELP and TYPE lines (the first worker's) and every worker's samples. */
    private static final class Family {
        final List<String> headers = new ArrayList<>();
        final List<String> samples = new ArrayList<>();

        void header(String line) {
            String kind = line.substring(0, 7);
            if (headers.stream().noneMatch(existing -> existing.startsWith(kind))) {
                headers.add(line);
            }
        }
    }
}
