package dev.gantry.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which paths the inference fast path takes: the two inference shapes with plain segments, nothing else. */
class InferFastPathTest {
    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp/infer", "/v2/models/mlp/versions/1/infer", "/v2/models/add_fp32/infer",
            "/v2/models/My-Model.v2/versions/17/infer", "/v2/models/stats/infer", "/v2/models/infer/infer",
            "/v2/models/mlp/versions/abc/infer", "/v2/models/.../infer"})
    void plainInferencePaths_takeTheFastPath(String path) {
        assertTrue(InferFastPath.isInferencePath(path), path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/models/mlp", "/v2/models/infer", "/v2/models//infer", "/v2/models/mlp/infer/",
            "/v2/models/ml%70/infer", "/v2/models/ml+p/infer", "/v2/models/./infer", "/v2/models/../infer",
            "/v2/models/mlp/versions/1/../infer", "/v2/models/mlp/versions//infer", "/v2/models/mlp/versions/infer",
            "/v2/models/mlp/ready/infer", "/v2/models/a/b/infer", "//v2/models/mlp/infer", "/v2/models/mlp/inferx",
            "/v2/models/mlp/versions/1/2/infer", "/v2/models/m:1/infer", "/v2/models/ml p/infer",
            "/admin/v1/models/mlp/infer", "/v2/models/mlp/versions/1/infer/extra"})
    void everyOtherPath_takesTheFullRouter(String path) {
        assertFalse(InferFastPath.isInferencePath(path), path);
    }
}
