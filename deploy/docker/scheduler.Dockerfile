# The Tranche scheduler: gRPC API, scheduling loop, dashboard. Build from the repository root:
#   docker build -f deploy/docker/scheduler.Dockerfile -t tranche/scheduler:dev .
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests -pl scheduler -am package \
 && ./mvnw -B -q -pl scheduler dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/opt/tranche/lib \
 && cp proto/target/*.jar api/target/*.jar web-ui/target/*.jar scheduler/target/*.jar /opt/tranche/lib/

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /var/lib/tranche tranche && mkdir -p /var/lib/tranche && chown tranche /var/lib/tranche
COPY --from=build /opt/tranche/lib /opt/tranche/lib
USER 10001
ENV TRANCHE_HOME=/var/lib/tranche
EXPOSE 50051 8080
ENTRYPOINT ["java", "-cp", "/opt/tranche/lib/*", "dev.tranche.cli.Tranche"]
CMD ["server", "--bind", "0.0.0.0"]
