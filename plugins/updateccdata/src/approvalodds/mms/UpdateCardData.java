package approvalodds.mms;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.ai.mms.servingsdk.Context;
import software.amazon.ai.mms.servingsdk.ModelServerEndpoint;
import software.amazon.ai.mms.servingsdk.annotations.Endpoint;
import software.amazon.ai.mms.servingsdk.annotations.helpers.EndpointTypes;
import software.amazon.ai.mms.servingsdk.http.Request;
import software.amazon.ai.mms.servingsdk.http.Response;

/**
 * GET /updateccdata: every Python worker refreshes its card catalogue from S3 now; the answer lists each worker's
 * result. The workers are separate processes MMS gives a plugin no channel to, so this speaks the file protocol of
 * handler/refresh/refresh_control.py in CONTROL_DIR (keep both in step):
 *
 * <pre>
 *   workers/PID.json  a live worker's refresher (written by the worker at start)
 *   request           the newest request id (epoch nanoseconds, only ever growing), written here atomically
 *   acks/PID.json     a worker's answer: {"pid", "request_id", "status", "catalog_version", "cards", ...}
 * </pre>
 *
 * Each worker polls the request file about once a second; an ack whose request_id is at least ours answers us.
 */
@Endpoint(
        urlPattern = "updateccdata",
        endpointType = EndpointTypes.INFERENCE,
        description = "Refresh the card catalogue from S3 in every worker now")
public class UpdateCardData extends ModelServerEndpoint {

    private static final String DEFAULT_CONTROL_DIR = "/tmp/approval-odds/control";
    // A worker answers within ~1 s of polling plus its bounded refresh (7 s, handler/refresh/refresher.py).
    private static final long WAIT_MILLIS = 10_000;
    private static final long POLL_MILLIS = 50;
    private static final AtomicLong LAST_REQUEST = new AtomicLong();

    private final Path controlDir;

    public UpdateCardData() {
        this(controlDirFromEnvironment());
    }

    UpdateCardData(Path controlDir) {
        this.controlDir = controlDir;
    }

    private static Path controlDirFromEnvironment() {
        String configured = System.getenv("CONTROL_DIR");
        return Paths.get(configured == null || configured.isBlank() ? DEFAULT_CONTROL_DIR : configured.trim());
    }

    @Override
    public void doGet(Request req, Response rsp, Context ctx) throws IOException {
        JsonObject body = new JsonObject();
        int status;
        try {
            status = refreshAll(body);
        } catch (IOException e) {
            body.addProperty("error", "control directory " + controlDir + " is not usable: " + e);
            status = 500;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            body.addProperty("error", "interrupted while waiting for the workers");
            status = 503;
        }
        rsp.setStatus(status);
        rsp.setContentType("application/json");
        rsp.getOutputStream().write((body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private int refreshAll(JsonObject body) throws IOException, InterruptedException {
        long request = nextRequestId();
        writeAtomically(controlDir.resolve("request"), Long.toString(request));
        body.addProperty("request_id", request);
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        Map<Long, JsonObject> answers = new TreeMap<>();
        List<Long> waiting = liveWorkers();
        while (true) {
            for (Long pid : waiting) {
                JsonObject ack = readAck(pid);
                if (ack != null && ack.has("request_id") && ack.get("request_id").getAsLong() >= request) {
                    answers.put(pid, ack);
                }
            }
            waiting = liveWorkers();
            waiting.removeAll(answers.keySet());
            if (waiting.isEmpty() || System.currentTimeMillis() >= deadline) {
                break;
            }
            Thread.sleep(POLL_MILLIS);
        }
        JsonArray refreshed = new JsonArray();
        answers.values().forEach(refreshed::add);
        JsonArray noAnswer = new JsonArray();
        waiting.forEach(noAnswer::add);
        body.add("refreshed", refreshed);
        body.add("no_answer", noAnswer);
        if (answers.isEmpty() && waiting.isEmpty()) {
            body.addProperty("error", "no live worker is registered in " + controlDir);
            return 503;
        }
        return waiting.isEmpty() ? 200 : 504;
    }

    /** Epoch nanoseconds, strictly increasing within this JVM (two calls in one millisecond still differ). */
    private static long nextRequestId() {
        long now = System.currentTimeMillis() * 1_000_000L;
        return LAST_REQUEST.updateAndGet(last -> Math.max(now, last + 1));
    }

    /** Registered workers whose process is alive; the files of dead ones are removed. */
    private List<Long> liveWorkers() throws IOException {
        List<Long> pids = new ArrayList<>();
        Path dir = controlDir.resolve("workers");
        if (!Files.isDirectory(dir)) {
            return pids;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.json")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                long pid;
                try {
                    pid = Long.parseLong(name.substring(0, name.length() - ".json".length()));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    pids.add(pid);
                } else {
                    Files.deleteIfExists(entry);
                    Files.deleteIfExists(controlDir.resolve("acks").resolve(name));
                }
            }
        }
        return pids;
    }

    private JsonObject readAck(long pid) {
        try {
            String text = Files.readString(controlDir.resolve("acks").resolve(pid + ".json"));
            JsonElement parsed = JsonParser.parseString(text);
            return parsed.isJsonObject() ? parsed.getAsJsonObject() : null;
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            return null; // not written yet (or being replaced): look again on the next round
        }
    }

    private static void writeAtomically(Path target, String content) throws IOException {
        Files.createDirectories(target.getParent());
        Path temporary = Files.createTempFile(target.getParent(), ".request.", ".tmp");
        try {
            Files.writeString(temporary, content);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
