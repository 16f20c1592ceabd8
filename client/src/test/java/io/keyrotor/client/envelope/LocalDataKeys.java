package io.keyrotor.client.envelope;

import io.grpc.Status;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.SecretBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An in-process stand-in for the server's data plane: wraps data keys under one KEK with AES-GCM,
 * binding key name and context (unless told to ignore the context), counts calls, and remembers
 * every {@link DataKey} it handed out so tests can check they were zeroed.
 */
final class LocalDataKeys implements DataKeySource {

  private final SecureRandom random = new SecureRandom();
  private final byte[] kek = new byte[32];
  final AtomicInteger generated = new AtomicInteger();
  final AtomicInteger unwrapped = new AtomicInteger();
  final List<DataKey> handedOut = new CopyOnWriteArrayList<>();
  volatile boolean ignoreContext;

  LocalDataKeys() {
    random.nextBytes(kek);
  }

  @Override
  public DataKey generate(String keyName, Map<String, String> context) {
    generated.incrementAndGet();
    byte[] dek = new byte[32];
    random.nextBytes(dek);
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    byte[] name = keyName.getBytes(StandardCharsets.UTF_8);
    byte[] sealed = gcm(Cipher.ENCRYPT_MODE, nonce, keyName, context, dek);
    ByteBuffer wrapped = ByteBuffer.allocate(1 + name.length + 12 + sealed.length);
    wrapped.put((byte) name.length).put(name).put(nonce).put(sealed);
    DataKey dataKey = new DataKey(SecretBytes.copyOf(dek), wrapped.array(), keyName, 1);
    java.util.Arrays.fill(dek, (byte) 0);
    handedOut.add(dataKey);
    return dataKey;
  }

  @Override
  public DataKey unwrap(byte[] wrapped, Map<String, String> context) {
    unwrapped.incrementAndGet();
    try {
      ByteBuffer in = ByteBuffer.wrap(wrapped);
      byte[] name = new byte[in.get() & 0xFF];
      in.get(name);
      byte[] nonce = new byte[12];
      in.get(nonce);
      byte[] sealed = new byte[in.remaining()];
      in.get(sealed);
      String keyName = new String(name, StandardCharsets.UTF_8);
      byte[] dek = gcm(Cipher.DECRYPT_MODE, nonce, keyName, context, sealed);
      if (dek == null) {
        throw refused();
      }
      DataKey dataKey = new DataKey(SecretBytes.takeOwnership(dek), wrapped, keyName, 1);
      handedOut.add(dataKey);
      return dataKey;
    } catch (RuntimeException e) {
      if (e instanceof KeyrotorException) {
        throw e;
      }
      throw refused();
    }
  }

  private static KeyrotorException refused() {
    return KeyrotorException.clientSide(
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_CIPHERTEXT,
        "ciphertext does not decrypt (INVALID_CIPHERTEXT)",
        null);
  }

  private byte[] gcm(
      int mode, byte[] nonce, String keyName, Map<String, String> context, byte[] input) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
      cipher.updateAAD(keyName.getBytes(StandardCharsets.UTF_8));
      if (!ignoreContext) {
        cipher.updateAAD(EncryptionContext.of(context).encoding());
      }
      return cipher.doFinal(input);
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** True if every data key handed out so far has been zeroed. */
  boolean allHandedOutZeroed() {
    return handedOut.stream().allMatch(DataKey::isDestroyed);
  }
}
