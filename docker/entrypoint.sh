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
exec java --enable-native-access=ALL-UNNAMED -XX:+ExitOnOutOfMemoryError -jar /opt/gantry/gantry.jar serve "$@"
