package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.access.Role;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.gantry.http.governance.GovernanceApi.LOW_CARD;
import static dev.gantry.http.governance.GovernanceApi.error;
import static dev.gantry.http.governance.GovernanceApi.ok;
import static dev.gantry.http.governance.GovernanceApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A version's release from upload to retirement through the admin API, and every step the release rules
 * forbid, each refused with a 4xx whose message names the rule. One server on a temporary repository; each
 * test has models of its own, whose version 1 is on disk at start (catalogued APPROVED by "system").
 */
class ReleaseWalkthroughTest {
    private static final Set<String> SETTLED = Set.of("VALIDATED", "FAILED");
    private static final List<String> MODELS = List.of("walk", "unapproved", "failed", "self", "requested",
            "incomplete", "high", "voided");

    @TempDir
    static Path dir;
    private static ServerFixture server;
    private static GovernanceApi api;
    private static String admin;
    /** deploy */
    private static String uploader;
    /** deploy */
    private static String requester;
    /** approve */
    private static String approver;
    /** approve */
    private static String secondApprover;
    /** deploy and approve: can upload, request and approve, so only the rules stop it */
    private static String dual;

    @BeforeAll
    static void start() throws IOException {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String m : MODELS) {
            repo.copy("classifier", m, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        api = new GovernanceApi(server.server().port());
        admin = key("admin", Role.ADMIN);
        uploader = key("uploader", Role.DEPLOY);
        requester = key("requester", Role.DEPLOY);
        approver = key("approver", Role.APPROVE);
        secondApprover = key("second-approver", Role.APPROVE);
        dual = key("dual", Role.DEPLOY, Role.APPROVE);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String key(String name, Role... roles) {
        return server.server().keys().create(name, Set.of(roles), Set.of(), Optional.empty(), Optional.empty())
                .token();
    }

    @Test
    void release_uploadedVersion_goesFromUploadThroughApprovalAndRolloutToRetirement() throws Exception {
        String m = "walk";
        byte[] artifact = GovernanceApi.bundled("classifier");
        assertEquals("APPROVED", api.version(admin, m, 1).path("stage").asText(), "version 1 was on disk at start");
        assertEquals("system", api.version(admin, m, 1).path("uploaded_by").asText());

        HttpResponse<String> put = api.upload(uploader, m, 2, artifact);
        assertEquals(201, put.statusCode(), put.body());
        assertEquals(sha256(artifact), Bodies.parse(put.body()).path("sha256").asText());
        JsonNode validated = api.awaitStage(admin, m, 2, SETTLED);
        assertEquals("VALIDATED", validated.path("stage").asText(), validated.toString());
        assertEquals("uploader", validated.path("uploaded_by").asText());

        ok(api.patchCard(uploader, m, 2, LOW_CARD));
        assertEquals("team-risk", ok(api.get(admin, GovernanceApi.versionPath(m, 2) + "/card")).path("owner")
                .asText());
        JsonNode pending = ok(api.transition(requester, m, 2, "request-approval", "ready for review"));
        assertEquals("PENDING_APPROVAL", pending.path("stage").asText());
        assertEquals("requester", pending.path("approval_requested_by").asText());
        JsonNode approved = ok(api.transition(approver, m, 2, "approve", "looks good"));
        assertEquals("APPROVED", approved.path("stage").asText(), approved.toString());
        assertEquals("approver", approved.path("approvals").get(0).path("approver").asText());

        JsonNode canary = ok(api.traffic(uploader, m, routes(1, 90, 2, 10)));
        assertEquals(Map.of(1L, 90, 2L, 10), weights(canary.path("policy")));
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = api.infer(admin, m, 0, i);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Deprecation").isEmpty(), "nothing is deprecated yet");
        }
        // Version 1 keeps a route of weight 0, so its leaving every route at retirement shows in the policy.
        JsonNode full = ok(api.traffic(uploader, m, routes(2, 100, 1, 0)));
        assertEquals(Map.of(2L, 100, 1L, 0), weights(full.path("policy")));

        Instant sunset = Instant.now().plusSeconds(2);
        JsonNode deprecated = ok(api.post(uploader, GovernanceApi.versionPath(m, 1) + "/deprecate",
                "{\"sunset\":\"" + sunset + "\",\"successor\":2,\"reason\":\"superseded by 2\"}"));
        assertEquals("DEPRECATED", deprecated.path("stage").asText());
        assertEquals("2", deprecated.path("successor").asText());
        HttpResponse<String> old = api.infer(admin, m, 1, 7);
        assertTrue(Instant.now().isBefore(sunset), "the deprecated version answered after its sunset; too slow to"
                + " check its headers");
        assertEquals(200, old.statusCode(), old.body());
        assertTrue(old.headers().firstValue("Deprecation").orElse("").matches("@\\d+"), old.headers().map()
                .toString());
        assertEquals(DateTimeFormatter.RFC_1123_DATE_TIME.format(sunset.atZone(ZoneOffset.UTC)),
                old.headers().firstValue("Sunset").orElse(null));
        HttpResponse<String> current = api.infer(admin, m, 0, 8);
        assertEquals(200, current.statusCode(), current.body());
        assertTrue(current.headers().firstValue("Deprecation").isEmpty(), "version 2 served it and is not deprecated");

        JsonNode retired = api.awaitStage(admin, m, 1, Set.of("RETIRED"));
        assertEquals("2", retired.path("successor").asText(), retired.toString());
        JsonNode policy = awaitPolicyWithout(m, 1);
        assertEquals(Map.of(2L, 100), weights(policy.path("policy")), policy.toString());
        JsonNode at = ok(api.get(admin, "/admin/v1/models/" + m + "/traffic/at?time=" + Instant.now()));
        assertEquals(Map.of(2L, 100), weights(at.path("policy")), at.toString());
        HttpResponse<String> gone = api.infer(admin, m, 1, 9);
        assertEquals(410, gone.statusCode(), gone.body());
        assertTrue(error(gone).contains("use version 2"), gone.body());
        HttpResponse<String> back = api.traffic(uploader, m, routes(1, 10, 2, 90));
        assertEquals(409, back.statusCode(), back.body());
        assertTrue(error(back).contains("can never take traffic again") || error(back).contains("RETIRED"),
                back.body());
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = api.infer(admin, m, 0, 10 + i);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Deprecation").isEmpty(), r.headers().map().toString());
        }
    }

    @Test
    void traffic_toValidatedVersionNotYetApproved_isRefusedNamingTheApprovalRule() throws Exception {
        String m = "unapproved";
        uploadValidated(uploader, m, 2);
        HttpResponse<String> r = api.traffic(uploader, m, routes(1, 90, 2, 10));
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("version 2 of model 'unapproved' is VALIDATED"), r.body());
        assertTrue(error(r).contains("only APPROVED versions"), r.body());
    }

    @Test
    void unversionedRequest_toAModelWhoseOnlyVersionIsNotApproved_is503NamingItsReleaseStage() throws Exception {
        // The answer used to say "has no READY version; its versions are [1 READY]": true of the lifecycle, wrong
        // as an explanation, since the release gate was what refused.
        String m = "newcomer";
        uploadValidated(uploader, m, 1);
        HttpResponse<String> pinned = api.infer(admin, m, 1, 3);
        assertEquals(200, pinned.statusCode(), "an admin may test a validated version: " + pinned.body());
        HttpResponse<String> r = api.infer(admin, m, 0, 3);
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(error(r).contains("model 'newcomer' has no version that may take routed requests"), r.body());
        assertTrue(error(r).contains("1 READY, release stage VALIDATED: routed requests need APPROVED or"
                + " DEPRECATED"), r.body());
    }

    @Test
    void traffic_toVersionThatFailedValidation_isRefusedForGood() throws Exception {
        String m = "failed";
        byte[] notAModel = new byte[4096];
        notAModel[0] = 0x08;
        notAModel[1] = 0x07;
        for (int i = 2; i < notAModel.length; i++) {
            notAModel[i] = (byte) (i * 31 + 7);
        }
        HttpResponse<String> put = api.upload(uploader, m, 2, notAModel);
        assertEquals(201, put.statusCode(), "it passes the ONNX sniff, so the upload is accepted: " + put.body());
        JsonNode failed = api.awaitStage(admin, m, 2, SETTLED);
        assertEquals("FAILED", failed.path("stage").asText(), failed.toString());

        HttpResponse<String> r = api.traffic(uploader, m, routes(1, 50, 2, 50));
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("version 2 of model 'failed' is FAILED and can never take traffic"), r.body());
        HttpResponse<String> request = api.transition(requester, m, 2, "request-approval", "");
        assertEquals(409, request.statusCode(), request.body());
    }

    @Test
    void approve_byTheUploader_isRefusedAsSeparationOfDuties() throws Exception {
        String m = "self";
        uploadValidated(dual, m, 2);
        ok(api.patchCard(dual, m, 2, LOW_CARD));
        ok(api.transition(requester, m, 2, "request-approval", ""));

        HttpResponse<String> r = api.transition(dual, m, 2, "approve", "my own work is fine");
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(error(r).contains("uploaded this version (separation of duties)"), r.body());
        assertEquals("PENDING_APPROVAL", api.version(admin, m, 2).path("stage").asText());
    }

    @Test
    void approve_byTheRequester_isRefusedAsSeparationOfDuties() throws Exception {
        String m = "requested";
        uploadValidated(uploader, m, 2);
        ok(api.patchCard(uploader, m, 2, LOW_CARD));
        ok(api.transition(dual, m, 2, "request-approval", ""));

        HttpResponse<String> r = api.transition(dual, m, 2, "approve", "");
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(error(r).contains("requested this approval (separation of duties)"), r.body());
        assertEquals("APPROVED", ok(api.transition(approver, m, 2, "approve", "")).path("stage").asText(),
                "a third party may approve it");
    }

    @Test
    void requestApprovalAndApprove_withRequiredCardFieldsEmpty_areRefusedNamingTheFields() throws Exception {
        String m = "incomplete";
        uploadValidated(uploader, m, 2);
        ok(api.patchCard(uploader, m, 2, "{\"owner\":\"team-risk\",\"risk_tier\":\"low\"}"));
        HttpResponse<String> request = api.transition(requester, m, 2, "request-approval", "");
        assertEquals(409, request.statusCode(), request.body());
        assertTrue(error(request).contains("required card fields are empty: [description, intended_use]"),
                request.body());
        assertEquals("VALIDATED", api.version(admin, m, 2).path("stage").asText());

        ok(api.patchCard(uploader, m, 2, "{\"description\":\"d\",\"intended_use\":\"u\"}"));
        ok(api.transition(requester, m, 2, "request-approval", ""));
        ok(api.patchCard(uploader, m, 2, "{\"description\":null,\"intended_use\":null}"));
        HttpResponse<String> r = api.transition(approver, m, 2, "approve", "");
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("required card fields are empty: [description, intended_use]"), r.body());
        assertEquals("PENDING_APPROVAL", api.version(admin, m, 2).path("stage").asText());
    }

    @Test
    void approve_highRiskTier_needsTwoDistinctApprovers() throws Exception {
        String m = "high";
        uploadValidated(uploader, m, 2);
        ok(api.patchCard(uploader, m, 2, "{\"owner\":\"team-risk\",\"description\":\"d\",\"intended_use\":\"u\","
                + "\"limitations\":\"l\",\"license\":\"Apache-2.0\",\"out_of_scope_uses\":\"medical triage\","
                + "\"risk_notes\":\"biased on short tickets\",\"lineage\":{\"source\":\"git:abc123\"},"
                + "\"metrics\":{\"accuracy\":0.91},\"risk_tier\":\"high\"}"));
        ok(api.transition(requester, m, 2, "request-approval", ""));

        JsonNode first = ok(api.transition(approver, m, 2, "approve", "first"));
        assertEquals("PENDING_APPROVAL", first.path("stage").asText(), first.toString());
        HttpResponse<String> again = api.transition(approver, m, 2, "approve", "me again");
        assertEquals(403, again.statusCode(), again.body());
        assertTrue(error(again).contains("high risk tier needs a second approver distinct from 'approver'"),
                again.body());
        HttpResponse<String> early = api.traffic(uploader, m, routes(1, 90, 2, 10));
        assertEquals(409, early.statusCode(), "one approval of two does not release it: " + early.body());

        JsonNode second = ok(api.transition(secondApprover, m, 2, "approve", "second"));
        assertEquals("APPROVED", second.path("stage").asText(), second.toString());
        ok(api.traffic(uploader, m, routes(1, 90, 2, 10)));
    }

    @Test
    void upload_ofDifferentBytesToAnExistingVersion_isRefusedWith409() {
        String m = "conflict";
        assertEquals(201, api.upload(uploader, m, 1, GovernanceApi.bundled("classifier")).statusCode());

        HttpResponse<String> r = api.upload(uploader, m, 1, GovernanceApi.bundled("mlp"));
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("versions are immutable"), r.body());
    }

    @Test
    void upload_ofIdenticalBytesToAnExistingVersion_answers200Identical() throws Exception {
        String m = "identical";
        byte[] artifact = GovernanceApi.bundled("classifier");
        HttpResponse<String> first = api.upload(uploader, m, 1, artifact);
        assertEquals(201, first.statusCode(), first.body());
        api.awaitStage(admin, m, 1, SETTLED);

        HttpResponse<String> again = api.upload(uploader, m, 1, artifact);
        assertEquals(200, again.statusCode(), again.body());
        JsonNode body = Bodies.parse(again.body());
        assertEquals("identical", body.path("outcome").asText());
        assertEquals(sha256(artifact), body.path("sha256").asText());
        assertEquals("VALIDATED", body.path("stage").asText(), "the version is untouched: " + body);
    }

    @Test
    void upload_ofTarGzWithPathTraversingEntry_isRefusedWith400NamingTheEntry() throws Exception {
        String m = "traversal";
        byte[] bundle = tarGz(Map.of("model.onnx", GovernanceApi.bundled("classifier"),
                "../evil", "owned".getBytes(StandardCharsets.UTF_8)));

        HttpResponse<String> r = api.upload(uploader, m, 1, bundle);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(error(r).contains("'../evil'"), r.body());
        assertFalse(Files.exists(dir.resolve("models").resolve("evil")), "nothing was written outside");
        assertFalse(Files.exists(dir.resolve("models").resolve(m).resolve("1")));
        assertEquals(404, api.get(admin, GovernanceApi.versionPath(m, 1)).statusCode());
    }

    @Test
    void cardEdit_ofRequiredFieldAfterApproval_voidsTheApproval_andTrafficToItIsRefused() throws Exception {
        String m = "voided";
        uploadValidated(uploader, m, 2);
        ok(api.patchCard(uploader, m, 2, LOW_CARD));
        ok(api.transition(requester, m, 2, "request-approval", ""));
        assertEquals("APPROVED", ok(api.transition(approver, m, 2, "approve", "")).path("stage").asText());

        ok(api.patchCard(uploader, m, 2, "{\"tags\":[\"nlp\"]}"));
        assertEquals("APPROVED", api.version(admin, m, 2).path("stage").asText(),
                "tags are not required for low tier, so editing them keeps the approval");
        JsonNode after = ok(api.patchCard(uploader, m, 2, "{\"intended_use\":\"something else entirely\"}"));

        assertEquals("VALIDATED", after.path("stage").asText(), after.toString());
        assertTrue(after.path("reason").asText().startsWith("approval voided"), after.toString());
        assertTrue(after.path("reason").asText().contains("intended_use"), after.toString());
        assertTrue(after.path("approvals").get(0).path("voided").asBoolean(), after.toString());
        HttpResponse<String> r = api.traffic(uploader, m, routes(1, 90, 2, 10));
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("version 2 of model 'voided' is VALIDATED"), r.body());
    }

    // ---- helpers

    private static void uploadValidated(String token, String model, long version) throws InterruptedException {
        HttpResponse<String> put = api.upload(token, model, version, GovernanceApi.bundled("classifier"));
        assertEquals(201, put.statusCode(), put.body());
        JsonNode r = api.awaitStage(admin, model, version, SETTLED);
        assertEquals("VALIDATED", r.path("stage").asText(), r.toString());
    }

    /** Polls GET /admin/v1/models/{m} until its policy no longer names {@code version} (fails after 30 s). */
    private static JsonNode awaitPolicyWithout(String model, long version) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = ok(api.get(admin, "/admin/v1/models/" + model));
            if (!weights(last.path("policy")).containsKey(version)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("version " + version + " never left the routes of '" + model + "': " + last);
    }

    private static Map<Long, Integer> weights(JsonNode policy) {
        Map<Long, Integer> out = new LinkedHashMap<>();
        for (JsonNode r : policy.path("routes")) {
            out.put(Long.parseLong(r.path("version").asText()), r.path("weight").asInt());
        }
        return out;
    }

    private static byte[] tarGz(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).descendingMap().entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey(), /* preserveAbsolutePath= */ true);
                entry.setSize(e.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
