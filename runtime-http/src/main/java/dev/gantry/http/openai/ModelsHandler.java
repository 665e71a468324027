package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.text.TextEmbedder;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.json.Json;
import io.vertx.ext.web.RoutingContext;

import java.util.Optional;

/** {@code GET /v1/models} and {@code GET /v1/models/{model}}: the text models, as OpenAI lists models. */
public final class ModelsHandler {
    private static final String OWNER = "gantry";

    private final TextEmbedder embedder;
    private final AccessControl access;

    public ModelsHandler(TextEmbedder embedder, AccessControl access) {
        this.embedder = embedder;
        this.access = access;
    }

    /** The text models the caller's key may use; models it may not use are left out, not refused. */
    public void list(RoutingContext ctx) {
        Optional<Caller> caller = OpenAiAccess.admit(ctx, access, RouteGroup.METADATA, null);
        if (caller.isEmpty()) {
            return;
        }
        ObjectNode root = Json.object();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String model : embedder.models()) {
            if (AccessControl.modelRefusal(RouteGroup.METADATA, caller.get(), model).isEmpty()) {
                model(data.addObject(), model);
            }
        }
        Json.send(ctx.response(), 200, root);
    }

    public void get(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        if (OpenAiAccess.admit(ctx, access, RouteGroup.METADATA, model).isEmpty()) {
            return;
        }
        if (embedder.options(model).isEmpty()) {
            OpenAiErrors.send(ctx.response(), GantryException.notFound("unknown model '" + model
                    + "': /v1/models lists the text models (those with a gantry.text section)"));
            return;
        }
        ObjectNode root = Json.object();
        model(root, model);
        Json.send(ctx.response(), 200, root);
    }

    private static void model(ObjectNode node, String name) {
        node.put("id", name);
        node.put("object", "model");
        node.put("created", 0);
        node.put("owned_by", OWNER);
    }
}
