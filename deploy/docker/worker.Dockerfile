# A Tranche worker: trains one replica of an experiment with Spark and DL4J. Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t tranche/worker:dev .
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests -pl worker -am package \
 && ./mvnw -B -q -pl worker dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/opt/tranche/lib \
 && cp proto/target/*.jar api/target/*.jar worker/target/*.jar /opt/tranche/lib/

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /var/lib/tranche tranche && mkdir -p /var/lib/tranche /checkpoints && chown tranche /var/lib/tranche /checkpoints
COPY --from=build /opt/tranche/lib /opt/tranche/lib
USER 10001
# Spark on Java 17 and DL4J's gradient sharing need these (docs/worker.md)
ENV JAVA_TOOL_OPTIONS="--add-exports=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED -Daeron.publication.unblock.timeout=60000000000"
ENTRYPOINT ["java", "-cp", "/opt/tranche/lib/*", "dev.tranche.cli.Tranche"]
CMD ["worker", "-f", "/etc/tranche/spec.json"]
