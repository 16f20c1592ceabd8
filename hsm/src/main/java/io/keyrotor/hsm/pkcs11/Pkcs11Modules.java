package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;

/**
 * The process-wide registry of loaded PKCS#11 modules: each module (by real path) is loaded and
 * {@code C_Initialize}d once per process and never {@code C_Finalize}d, because finalising a module
 * breaks every other user of it in the process (other HSM instances, ceremonies, a JCE provider).
 */
final class Pkcs11Modules {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Modules.class);
  private static final Map<Path, PKCS11Module> MODULES = new HashMap<>();

  private Pkcs11Modules() {}

  /** The initialised module at {@code modulePath}, loading it on first use. */
  static synchronized PKCS11Module get(Path modulePath) throws HsmException {
    Path realPath;
    try {
      realPath = modulePath.toRealPath();
    } catch (NoSuchFileException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "PKCS#11 module "
              + modulePath
              + " does not exist (for SoftHSM2 install the Debian package softhsm2; scripts/test"
              + " installs it)");
    } catch (IOException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "PKCS#11 module " + modulePath + " cannot be read: " + e, e);
    }
    PKCS11Module module = MODULES.get(realPath);
    if (module != null) {
      return module;
    }
    WrapperLogging.install();
    try {
      module = PKCS11Module.getInstance(realPath.toString());
    } catch (IOException | UnsatisfiedLinkError e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "PKCS#11 module "
              + modulePath
              + " could not be loaded: "
              + e.getMessage()
              + " (if java.io.tmpdir is mounted noexec, set -DPKCS11_TEMP_DIR to an executable"
              + " directory)",
          e);
    }
    try {
      module.initialize();
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new HsmException(
            Reason.HSM_UNAVAILABLE,
            "PKCS#11 module " + modulePath + " failed to initialise: " + e.getErrorName(),
            e);
      }
      LOG.info("PKCS#11 module {} was already initialised in this process", modulePath);
    }
    MODULES.put(realPath, module);
    LOG.info("PKCS#11 module {} loaded", realPath);
    return module;
  }
}
