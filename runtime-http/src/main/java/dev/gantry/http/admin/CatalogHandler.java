package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.release.CatalogEntry;
import dev.gantry.core.release.Releases;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.json.Json;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /admin/v1/catalog}: every version with owner, stage, tier, approvals, traffic share, last served, flags. */
public final class CatalogHandler {
    private final Releases releases;
    private final WorkerExecutor workers;

    public CatalogHandler(Releases releases, WorkerExecutor workers) {
        this.releases = releases;
        this.workers = workers;
    }

    public void catalog(RoutingContext ctx) {
        Caller caller = Caller.from(ctx);
        Replies.blocking(ctx, workers, 200, () -> {
            ObjectNode out = Json.object();
            ArrayNode versions = out.putArray("versions");
            for (CatalogEntry e : releases.catalog()) {
                if (caller.sees(e.record().model())) {
                    versions.add(ReleaseJson.catalogEntry(e));
                }
            }
            return out;
        });
    }
}
