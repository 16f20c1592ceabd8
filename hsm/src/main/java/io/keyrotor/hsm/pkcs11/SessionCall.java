package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/** A PKCS#11 call on a session the caller provides (pooled, or opened for one ceremony step). */
interface SessionCall<T> {
  T call(Session session) throws PKCS11Exception, HsmException;
}
