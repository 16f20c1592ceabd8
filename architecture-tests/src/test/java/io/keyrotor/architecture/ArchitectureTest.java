package io.keyrotor.architecture;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.keyrotor.architecturefixture.RatisUser;
import io.keyrotor.architecturefixture.RocksDbUser;
import io.keyrotor.architecturefixture.ServerInternalsUser;
import io.keyrotor.architecturefixture.StoreWriter;
import io.keyrotor.client.architecturefixture.InternalRecordReader;
import io.keyrotor.client.architecturefixture.TracingSdkUser;
import io.keyrotor.storage.architecturefixture.ClockReadingTransition;
import io.keyrotor.storage.architecturefixture.RandomKeyTransition;
import io.keyrotor.storage.architecturefixture.UuidRequestTransition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link ArchitectureRules} against the production classes of every module, and each rule
 * once against a deliberately bad class (test sources of this module, never shipped) to show that
 * it fails when broken.
 */
class ArchitectureTest {
  private static JavaClasses production;

  @BeforeAll
  static void importProductionClasses() {
    production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // Generated protobuf and gRPC code follows no rule of ours; calls into it still count.
            .withImportOption(
                location ->
                    !location.contains("/io/keyrotor/api/")
                        && !location.contains("/io/keyrotor/proto/")
                        && !location.contains("/io/keyrotor/api/chaos/"))
            .importPackages("io.keyrotor");
    for (String module :
        new String[] {
          "io.keyrotor.storage.KeyStateStore",
          "io.keyrotor.consensus.RaftNode",
          "io.keyrotor.hsm.Hsm",
          "io.keyrotor.server.KeyrotorNode",
          "io.keyrotor.client.KeyrotorClient",
          "io.keyrotor.cli.KeyrotorCli"
        }) {
      assertTrue(
          production.contain(module), module + " is imported: every module is on the classpath");
    }
  }

  @Test
  void storage_readsNoClockAndNoRandomSource() {
    ArchitectureRules.STORAGE_IS_DETERMINISTIC.check(production);
  }

  @Test
  void onlyConsensus_holdsTheWritableStore() {
    ArchitectureRules.ONLY_CONSENSUS_WRITES_THE_STORE.check(production);
  }

  @Test
  void noModule_usesServerInternals() {
    ArchitectureRules.NO_MODULE_USES_SERVER_INTERNALS.check(production);
  }

  @Test
  void rocksDb_onlyInStorage() {
    ArchitectureRules.ROCKSDB_ONLY_IN_STORAGE.check(production);
  }

  @Test
  void ratis_onlyInConsensus() {
    ArchitectureRules.RATIS_ONLY_IN_CONSENSUS.check(production);
  }

  @Test
  void sdk_usesThePublicApiOnly() {
    ArchitectureRules.SDK_USES_THE_PUBLIC_API_ONLY.check(production);
  }

  @Test
  void deterministicStorageRule_failsOnAClockARandomSourceAndARandomUuid() {
    assertViolated(ArchitectureRules.STORAGE_IS_DETERMINISTIC, ClockReadingTransition.class);
    assertViolated(ArchitectureRules.STORAGE_IS_DETERMINISTIC, RandomKeyTransition.class);
    assertViolated(ArchitectureRules.STORAGE_IS_DETERMINISTIC, UuidRequestTransition.class);
  }

  @Test
  void storeRule_failsOnAClassOutsideConsensusThatAppliesCommands() {
    assertViolated(ArchitectureRules.ONLY_CONSENSUS_WRITES_THE_STORE, StoreWriter.class);
  }

  @Test
  void serverInternalsRule_failsOnAClassThatUsesTheDataPlaneMetrics() {
    assertViolated(ArchitectureRules.NO_MODULE_USES_SERVER_INTERNALS, ServerInternalsUser.class);
  }

  @Test
  void persistenceAndConsensusRules_failOnRocksDbAndRatisElsewhere() {
    assertViolated(ArchitectureRules.ROCKSDB_ONLY_IN_STORAGE, RocksDbUser.class);
    assertViolated(ArchitectureRules.RATIS_ONLY_IN_CONSENSUS, RatisUser.class);
  }

  @Test
  void sdk_tracesThroughTheOpenTelemetryApiOnly() {
    ArchitectureRules.SDK_TRACES_THROUGH_THE_OPENTELEMETRY_API_ONLY.check(production);
  }

  @Test
  void sdkTracingRule_failsOnAnSdkClassThatBuildsAnOpenTelemetrySdk() {
    assertViolated(
        ArchitectureRules.SDK_TRACES_THROUGH_THE_OPENTELEMETRY_API_ONLY, TracingSdkUser.class);
  }

  @Test
  void sdkRule_failsOnAnSdkClassThatReadsInternalRecords() {
    assertViolated(ArchitectureRules.SDK_USES_THE_PUBLIC_API_ONLY, InternalRecordReader.class);
  }

  private static void assertViolated(ArchRule rule, Class<?> badClass) {
    JavaClasses bad = new ClassFileImporter().importClasses(badClass);
    AssertionError error = assertThrows(AssertionError.class, () -> rule.check(bad));
    assertTrue(
        error.getMessage().contains(badClass.getName()),
        "the violation names " + badClass.getName() + ":\n" + error.getMessage());
  }
}
