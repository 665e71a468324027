package dev.gantry.core.governance;

import dev.gantry.core.access.Actor;
import dev.gantry.core.access.Role;

/** Test actors: a key named {@code name} (its id too) acting as {@code role}; "system" is the server itself. */
public final class Actors {
    private Actors() {
    }

    public static Actor as(String name, String role) {
        if (role.equals("system")) {
            return Actor.SYSTEM;
        }
        return Actor.key(name, name, Role.fromWire(role).orElseThrow());
    }
}
