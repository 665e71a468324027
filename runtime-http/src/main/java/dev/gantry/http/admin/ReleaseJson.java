package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelReadyState;
import dev.gantry.core.release.CatalogEntry;
import dev.gantry.core.release.Installed;
import dev.gantry.core.release.Releases;
import dev.gantry.http.json.Json;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.ReleaseRecord;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The JSON form of a version's release record, of the catalogue and of an upload's outcome. */
final class ReleaseJson {
    private ReleaseJson() {
    }

    /** The record with its approvals and serving state, as the version routes answer it. */
    static ObjectNode describe(Releases releases, ReleaseRecord r) {
        return describe(r, releases.approvals(r.model(), r.version()),
                releases.servingState(r.model(), r.version()).map(ModelVersionState::state));
    }

    static ObjectNode describe(ReleaseRecord r, List<Approval> approvals, Optional<ModelReadyState> serving) {
        ObjectNode n = Json.object();
        n.put("model", r.model());
        n.put("version", Long.toString(r.version()));
        n.put("stage", r.stage().name());
        n.put("digest", r.digest());
        n.put("size_bytes", r.sizeBytes());
        n.put("uploaded_by", r.uploadedBy());
        n.put("uploaded_at", r.uploadedAt().toString());
        r.reason().ifPresent(x -> n.put("reason", x));
        r.approvalRequestedBy().ifPresent(x -> n.put("approval_requested_by", x));
        r.sunset().ifPresent(x -> n.put("sunset", x.toString()));
        r.successor().ifPresent(x -> n.put("successor", Long.toString(x)));
        r.suspendedFrom().ifPresent(x -> n.put("suspended_from", x.name()));
        ArrayNode list = n.putArray("approvals");
        for (Approval a : approvals) {
            ObjectNode o = list.addObject();
            o.put("approver", a.approver());
            o.put("decision", a.decision().name());
            o.put("time", a.time().toString());
            o.put("reason", a.reason());
            o.put("voided", a.voided());
        }
        serving.ifPresent(s -> n.put("serving_state", s.name()));
        return n;
    }

    static ObjectNode catalogEntry(CatalogEntry e) {
        ObjectNode n = describe(e.record(), e.approvals(), e.servingState());
        e.card().owner().ifPresent(o -> n.put("owner", o));
        e.card().riskTier().ifPresent(t -> n.put("risk_tier", t.name().toLowerCase(Locale.ROOT)));
        n.put("traffic_share", e.trafficShare());
        if (e.lastServed().isPresent()) {
            n.put("last_served", e.lastServed().get().toString());
        } else {
            n.putNull("last_served");
        }
        ArrayNode flags = n.putArray("flags");
        e.flags().forEach(flags::add);
        return n;
    }

    static ObjectNode installed(Installed i) {
        ObjectNode out = Json.object();
        out.put("model", i.model());
        out.put("version", Long.toString(i.version()));
        out.put("sha256", i.sha256());
        out.put("size_bytes", i.sizeBytes());
        out.put("outcome", i.created() ? "created" : "identical");
        ArrayNode files = out.putArray("files");
        i.files().forEach(files::add);
        i.configNote().ifPresent(c -> out.put("config", c));
        out.put("stage", i.stage().name());
        return out;
    }
}
