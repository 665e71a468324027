#!/bin/sh
# Every piece of a Gantry container's state lives on its data volume (GANTRY_DATA, /var/lib/gantry): the catalogue,
# keys and audit key, and the model repository (GANTRY_MODELS, /var/lib/gantry/models) that uploads are installed
# into. The image's bundled models sit read-only in GANTRY_BUNDLED_MODELS and are copied into the repository at the
# first start of an empty volume only, so a replaced container keeps the artifacts its catalogue records, and a
# bundled version retired or removed later does not come back.
set -eu
models="${GANTRY_MODELS:-/var/lib/gantry/models}"
bundled="${GANTRY_BUNDLED_MODELS:-/opt/gantry/bundled-models}"
if [ ! -e "$models" ] && [ -d "$bundled" ]; then
  rm -rf "$models".seeding.*
  tmp="$models.seeding.$$"
  cp -R "$bundled" "$tmp"
  mv "$tmp" "$models"   # one rename: a start interrupted while copying seeds again next time
fi
# The heap: GANTRY_HEAP (e.g. 2g; "jvm" leaves it to the JVM), else Gantry's default for the container's cores and
# memory limit; JAVA_OPTS come last, so an -Xmx there wins.
heap=""
if [ -n "${GANTRY_HEAP:-}" ]; then
  [ "$GANTRY_HEAP" = "jvm" ] || heap="-Xmx$GANTRY_HEAP"
else
  heap="$(java -cp /opt/gantry/gantry.jar dev.gantry.http.sizing.MachineDefaults)"
fi
# -XX:TrimNativeHeapInterval=30000 where the image's JVM accepts it: the JVM returns the C heap's free memory every
# 30 s (MachineDefaults.nativeTrimOptions); a later -XX:TrimNativeHeapInterval=0 in JAVA_OPTS turns it off.
trim=""
if java -XX:TrimNativeHeapInterval=30000 -version >/dev/null 2>&1; then
  trim="-XX:TrimNativeHeapInterval=30000"
fi
# shellcheck disable=SC2086 # $heap and $JAVA_OPTS are lists of JVM options
# -XX:InlineSmallCode=1000: see MachineDefaults.JIT_OPTIONS (a path the JIT had not seen costs a short recompile).
# No --sun-misc-unsafe-memory-access=allow: the image's JDK 21 refuses it, and Netty uses Unsafe there anyway
# (MachineDefaults.memoryAccessOptions; add it to JAVA_OPTS on an image moved to JDK 24 or later).
exec java --enable-native-access=ALL-UNNAMED -XX:+ExitOnOutOfMemoryError -XX:InlineSmallCode=1000 $trim $heap \
  ${JAVA_OPTS:-} \
  -jar /opt/gantry/gantry.jar serve "$@"
