package io.keyrotor.server.config;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretSources;
import io.keyrotor.hsm.WrapMechanism;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Which HSM the node opens, and where its secret comes from ({@code hsm.*}).
 *
 * @param kind {@code software} or {@code pkcs11} ({@code hsm.kind})
 * @param softwareKeyFile the software HSM's key file ({@code hsm.software.key-file}); null for
 *     pkcs11
 * @param pkcs11Module the PKCS#11 library ({@code hsm.pkcs11.module}); null for software
 * @param tokenLabel the PKCS#11 token ({@code hsm.pkcs11.token-label}); empty for software
 * @param secret where the passphrase or user PIN is read from, when the HSM is opened
 * @param mechanisms the wrap mechanisms, most preferred first ({@code hsm.mechanisms})
 */
public record HsmSettings(
    String kind,
    Path softwareKeyFile,
    Path pkcs11Module,
    String tokenLabel,
    SecretSource secret,
    List<WrapMechanism> mechanisms) {

  /** Reads the secret and builds the HSM configuration. */
  public HsmConfig toHsmConfig() throws ConfigException {
    char[] value = secret.read();
    if ("software".equals(kind)) {
      return new HsmConfig.Software(softwareKeyFile, value, mechanisms);
    }
    return new HsmConfig.Pkcs11(
        pkcs11Module,
        tokenLabel,
        value,
        mechanisms,
        HsmConfig.Pkcs11.DEFAULT_MAX_SESSIONS,
        HsmConfig.Pkcs11.DEFAULT_SESSION_WAIT);
  }

  /** A human description for status pages (no secrets). */
  public String describe() {
    return "software".equals(kind)
        ? "software key file " + softwareKeyFile
        : "pkcs11 " + pkcs11Module + " token " + tokenLabel;
  }

  /** A secret read from a file or an environment variable, never stored in the config itself. */
  public record SecretSource(
      String description, Path fileOrNull, String environmentVariableOrNull) {
    char[] read() throws ConfigException {
      try {
        return fileOrNull != null
            ? SecretSources.fromFile(fileOrNull)
            : SecretSources.fromEnvironment(environmentVariableOrNull);
      } catch (HsmException e) {
        throw new ConfigException(description + ": " + e.getMessage(), e);
      }
    }
  }

  /** The {@code hsm.*} lines of {@code p}; relative paths resolve against {@code base}. */
  static HsmSettings parse(Properties p, Path base, String source) throws ConfigException {
    ConfigFields r = new ConfigFields(p, source);
    String kind = r.optional("hsm.kind", "software");
    List<WrapMechanism> mechanisms = new ArrayList<>();
    for (String name : r.list("hsm.mechanisms", "AES_KEY_WRAP_PAD,AES_KEY_WRAP,AES_GCM")) {
      try {
        mechanisms.add(WrapMechanism.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            source
                + ": hsm.mechanisms: unknown mechanism "
                + name
                + " (known: "
                + Arrays.toString(WrapMechanism.values())
                + ")");
      }
    }
    return switch (kind) {
      case "software" ->
          new HsmSettings(
              kind,
              base.resolve(r.required("hsm.software.key-file")),
              null,
              "",
              r.secret("hsm.software.passphrase", "software HSM passphrase", base),
              mechanisms);
      case "pkcs11" ->
          new HsmSettings(
              kind,
              null,
              Path.of(r.required("hsm.pkcs11.module")),
              r.required("hsm.pkcs11.token-label"),
              r.secret("hsm.pkcs11.pin", "HSM user PIN", base),
              mechanisms);
      default ->
          throw new ConfigException(source + ": hsm.kind must be software or pkcs11, not " + kind);
    };
  }
}
