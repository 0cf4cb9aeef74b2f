package approvalodds.mms;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import software.amazon.ai.mms.servingsdk.Context;
import software.amazon.ai.mms.servingsdk.ModelServerEndpoint;
import software.amazon.ai.mms.servingsdk.annotations.Endpoint;
import software.amazon.ai.mms.servingsdk.annotations.helpers.EndpointTypes;
import software.amazon.ai.mms.servingsdk.http.Request;
import software.amazon.ai.mms.servingsdk.http.Response;

/**
 * GET /execution-parameters: what SageMaker batch transform should use when the job does not say — e.g.
 * {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}.
 *
 * <p>The launcher (serving/mms.py) exports the resolved values to MMS's environment; this class only reads them.
 * A 200 whose body is not this JSON breaks the transform job, so nothing here may throw: a missing or malformed
 * variable falls back to SageMaker's own default, and MaxConcurrentTransforms is lowered until
 * MaxConcurrentTransforms x MaxPayloadInMB is at most 100 MB (SageMaker refuses more).
 */
@Endpoint(
        urlPattern = "execution-parameters",
        endpointType = EndpointTypes.INFERENCE,
        description = "Batch transform execution parameters (SageMaker asks before it sends records)")
public class ExecutionParameters extends ModelServerEndpoint {

    static final int MAX_TOTAL_PAYLOAD_MB = 100;
    static final int DEFAULT_PAYLOAD_MB = 6;
    static final int DEFAULT_CONCURRENCY = 1;
    static final String DEFAULT_STRATEGY = "MULTI_RECORD";

    private final byte[] body;

    public ExecutionParameters() {
        this(System.getenv());
    }

    ExecutionParameters(Map<String, String> env) {
        this.body = (parameters(env) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The answer for an environment; every value is valid whatever the environment holds. */
    static JsonObject parameters(Map<String, String> env) {
        int payload = wholeNumber(env.get("SAGEMAKER_MAX_PAYLOAD_IN_MB"), 1, MAX_TOTAL_PAYLOAD_MB, DEFAULT_PAYLOAD_MB);
        int workers = wholeNumber(env.get("SAGEMAKER_MODEL_SERVER_WORKERS"), 1, 256, DEFAULT_CONCURRENCY);
        int concurrency = wholeNumber(env.get("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"), 1, 256, workers);
        JsonObject answer = new JsonObject();
        answer.addProperty("MaxConcurrentTransforms", Math.min(concurrency, MAX_TOTAL_PAYLOAD_MB / payload));
        answer.addProperty("BatchStrategy", strategy(env.get("SAGEMAKER_BATCH_STRATEGY")));
        answer.addProperty("MaxPayloadInMB", payload);
        return answer;
    }

    private static int wholeNumber(String raw, int low, int high, int fallback) {
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            return value >= low && value <= high ? value : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static String strategy(String raw) {
        String value = raw == null ? "" : raw.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        return value.equals("SINGLE_RECORD") || value.equals("MULTI_RECORD") ? value : DEFAULT_STRATEGY;
    }

    @Override
    public void doGet(Request req, Response rsp, Context ctx) throws IOException {
        rsp.setStatus(200);
        rsp.setContentType("application/json");
        rsp.getOutputStream().write(body);
    }
}
