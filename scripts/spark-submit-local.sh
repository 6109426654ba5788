#!/usr/bin/env bash
# spark-submit for a machine without a Spark install: runs Spark's own SparkSubmit class with the Spark 4.0
# jars the build copied into jimm-spark/target/spark-lib, exactly as bin/spark-submit would.
#   scripts/spark-submit-local.sh --master 'local[2]' --class dev.jimm.cli.Main jimm-cli/target/jimm-job.jar \
#       spark eval RUN FOLDER --out DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib="$here/jimm-spark/target/spark-lib"
[ -d "$lib" ] || { echo "spark-submit-local: $lib is missing (run mvn -B package -DskipTests first)" >&2; exit 1; }
opens=""
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
# a Spark install brings SLF4J with its log4j binding; jimm-job.jar brings neither
slf4j="$(ls "$here"/jimm-cli/target/lib/slf4j-api-*.jar | head -1)"
exec java ${JIMM_JAVA_OPTS:--Xmx4g} -XX:+IgnoreUnrecognizedVMOptions $opens -Djdk.reflect.useDirectMethodHandle=false \
  -Dio.netty.tryReflectionSetAccessible=true -Dai.djl.offline=true -cp "$lib/*:$slf4j" \
  org.apache.spark.deploy.SparkSubmit "$@"
