package io.keyrotor.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.lang.ArchRule;
import io.keyrotor.storage.KeyStateStore;
import java.time.Clock;
import java.util.Random;

/**
 * The architecture of keyrotor as rules over bytecode. Each rule states one promise of
 * docs/architecture.md; {@link ArchitectureTest} checks it against the production classes of every
 * module and shows, on a deliberately bad class, that it fails when broken.
 */
final class ArchitectureRules {
  private ArchitectureRules() {}

  /** Calls that read the wall clock or a source of randomness. */
  private static final DescribedPredicate<JavaMethodCall> READS_CLOCK_OR_RANDOMNESS =
      new DescribedPredicate<>("read the wall clock or a random source") {
        @Override
        public boolean test(JavaMethodCall call) {
          String owner = call.getTargetOwner().getName();
          String name = call.getName();
          return (owner.equals("java.lang.System") && name.equals("currentTimeMillis"))
              || (owner.startsWith("java.time.") && name.equals("now"))
              || (owner.equals("java.util.UUID") && name.equals("randomUUID"))
              || (owner.equals("java.lang.Math") && name.equals("random"));
        }
      };

  /**
   * Storage, where every log entry is applied, reads no clock and no random source: time and key
   * material arrive in the command, so every replica computes the same state. ({@code
   * System.nanoTime} stays allowed: a stopwatch for waits, it never enters state.)
   */
  static final ArchRule STORAGE_IS_DETERMINISTIC =
      noClasses()
          .that()
          .resideInAPackage("io.keyrotor.storage..")
          .should()
          .callMethodWhere(READS_CLOCK_OR_RANDOMNESS)
          .orShould()
          .dependOnClassesThat()
          .areAssignableTo(Clock.class)
          .orShould()
          .dependOnClassesThat()
          .areAssignableTo(Random.class)
          .because(
              "applying a command must give the same result on every replica: the leader stamps"
                  + " time into the command and the HSM mints key material before it is proposed");

  /**
   * Only the state machine (consensus) holds the writable store; everything else reads the
   * replicated state through {@code StateView}.
   */
  static final ArchRule ONLY_CONSENSUS_WRITES_THE_STORE =
      noClasses()
          .that()
          .resideOutsideOfPackages("io.keyrotor.storage..", "io.keyrotor.consensus..")
          .should()
          .dependOnClassesThat()
          .areAssignableTo(KeyStateStore.class)
          .because(
              "the state changes only by applying log entries; the server sees storage through"
                  + " the read-only StateView");

  /**
   * The server's internals (its services, data plane, rotation engine, HSM glue, metrics) are used
   * by no other module. Other modules may start a node: {@code io.keyrotor.server} (the node and
   * main), {@code io.keyrotor.server.config} and {@code io.keyrotor.server.local} are its entry
   * points. The data plane micro-benchmarks ({@code io.keyrotor.bench.micro}) measure the data
   * plane in-process and are the one exception.
   */
  static final ArchRule NO_MODULE_USES_SERVER_INTERNALS =
      noClasses()
          .that()
          .resideOutsideOfPackages("io.keyrotor.server..", "io.keyrotor.bench.micro..")
          .should()
          .dependOnClassesThat(
              resideInAPackage("io.keyrotor.server..")
                  .and(
                      not(
                          resideInAnyPackage(
                              "io.keyrotor.server",
                              "io.keyrotor.server.config",
                              "io.keyrotor.server.local"))))
          .because("other modules speak the public API; the server's internals may change freely");

  /** RocksDB is used by storage alone, Ratis by consensus alone. */
  static final ArchRule ROCKSDB_ONLY_IN_STORAGE =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.keyrotor.storage..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.rocksdb..")
          .because("storage owns persistence: one WriteBatch per command, its schema in one place");

  static final ArchRule RATIS_ONLY_IN_CONSENSUS =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.keyrotor.consensus..")
          .and()
          .resideOutsideOfPackage("org.apache.ratis..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.apache.ratis..")
          .because("consensus is the only Ratis user; the rest sees RaftNode");

  /**
   * The SDK and the CLI built on it depend on the public API alone: no internal records, no server,
   * storage or HSM.
   */
  static final ArchRule SDK_USES_THE_PUBLIC_API_ONLY =
      noClasses()
          .that()
          .resideInAnyPackage("io.keyrotor.client..", "io.keyrotor.cli..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.keyrotor.proto.internal..",
              "io.keyrotor.server..",
              "io.keyrotor.storage..",
              "io.keyrotor.consensus..",
              "io.keyrotor.hsm..")
          .because(
              "any gRPC client built from the published proto must be able to do what it does");

  /**
   * The SDK traces through the OpenTelemetry API alone: the OpenTelemetry SDK and its exporters are
   * the application's choice, and keep the client jar's runtime dependencies to gRPC, protobuf and
   * the API (the client's pom bans them from its classpath too).
   */
  static final ArchRule SDK_TRACES_THROUGH_THE_OPENTELEMETRY_API_ONLY =
      noClasses()
          .that()
          .resideInAPackage("io.keyrotor.client..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.opentelemetry.sdk..", "io.opentelemetry.exporter..")
          .because(
              "applications that use the SDK choose their own OpenTelemetry SDK and exporters");
}
