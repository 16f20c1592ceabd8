package io.keyrotor.client.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A scripted data plane behind the real KeyService wire protocol: GenerateDataKey, Decrypt and
 * ReEncrypt over per-key, per-version KEKs held in memory, with the context bound as associated
 * data. Its wrapped-key format is its own (the client treats wrapped keys as opaque):
 *
 * <pre>0x7f | u8 name length | name | u32 version | nonce(12) | AES-GCM(KEK, dek)</pre>
 *
 * <p>Knobs make it misbehave the ways a client must survive: data keys of the wrong size, a server
 * that ignores the context.
 */
public class FakeDataPlaneService extends FakeKeyService {

  /** The reason this fake gives for a wrapped key it cannot open. */
  public static final String INVALID_CIPHERTEXT = "INVALID_CIPHERTEXT";

  private final SecureRandom random = new SecureRandom();
  private final Map<String, List<byte[]>> keks = new ConcurrentHashMap<>();
  private volatile int dataKeyBytes = 32;
  private volatile boolean ignoreContext;

  /** Adds a key with one version. */
  public FakeDataPlaneService addKey(String name) {
    keks.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>()).add(randomBytes(32));
    return this;
  }

  /** Adds a version to a key; it becomes the one new data keys are wrapped under. */
  public FakeDataPlaneService rotate(String name) {
    keks.get(name).add(randomBytes(32));
    return this;
  }

  /** Generated data keys have this many bytes from now on (default 32). */
  public FakeDataPlaneService dataKeyBytes(int bytes) {
    this.dataKeyBytes = bytes;
    return this;
  }

  /** Whether wrapping ignores the context (a broken server; default false). */
  public FakeDataPlaneService ignoreContext(boolean ignore) {
    this.ignoreContext = ignore;
    return this;
  }

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> observer) {
    generate(request, observer, true);
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> observer) {
    generate(request, observer, false);
  }

  private void generate(
      GenerateDataKeyRequest request,
      StreamObserver<GenerateDataKeyResponse> observer,
      boolean withPlaintext) {
    if (failed(request, observer)) {
      return;
    }
    List<byte[]> versions = keks.get(request.getKeyName());
    if (versions == null) {
      observer.onError(GrpcErrors.keyNotFound(request.getKeyName()));
      return;
    }
    int size = request.getSpec() == DataKeySpec.DATA_KEY_SPEC_AES_128 ? 16 : dataKeyBytes;
    byte[] dataKey = randomBytes(size);
    int version = versions.size();
    GenerateDataKeyResponse.Builder response =
        GenerateDataKeyResponse.newBuilder()
            .setKeyName(request.getKeyName())
            .setKeyVersion(version)
            .setWrappedDataKey(
                ByteString.copyFrom(
                    wrap(request.getKeyName(), version, dataKey, request.getContextMap())));
    if (withPlaintext) {
      response.setPlaintext(ByteString.copyFrom(dataKey));
    }
    reply(observer, response.build());
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> observer) {
    Unwrapped unwrapped =
        unwrapOrAnswer(request, request.getCiphertext(), request.getContextMap(), observer);
    if (unwrapped == null) {
      return;
    }
    reply(
        observer,
        DecryptResponse.newBuilder()
            .setKeyName(unwrapped.name)
            .setKeyVersion(unwrapped.version)
            .setPlaintext(ByteString.copyFrom(unwrapped.plaintext))
            .build());
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> observer) {
    Unwrapped unwrapped =
        unwrapOrAnswer(request, request.getCiphertext(), request.getContextMap(), observer);
    if (unwrapped == null) {
      return;
    }
    String target =
        request.getDestinationKeyName().isEmpty()
            ? unwrapped.name
            : request.getDestinationKeyName();
    List<byte[]> versions = keks.get(target);
    if (versions == null) {
      observer.onError(GrpcErrors.keyNotFound(target));
      return;
    }
    Map<String, String> context =
        request.hasDestinationContext()
            ? request.getDestinationContext().getPairsMap()
            : request.getContextMap();
    reply(
        observer,
        ReEncryptResponse.newBuilder()
            .setKeyName(target)
            .setSourceKeyVersion(unwrapped.version)
            .setKeyVersion(versions.size())
            .setCiphertext(
                ByteString.copyFrom(wrap(target, versions.size(), unwrapped.plaintext, context)))
            .build());
  }

  /**
   * Records the request and unwraps its ciphertext under {@code context}; null once the call was
   * answered with an error instead (a scripted failure, or INVALID_CIPHERTEXT).
   */
  private Unwrapped unwrapOrAnswer(
      Message request,
      ByteString ciphertext,
      Map<String, String> context,
      StreamObserver<?> observer) {
    if (failed(request, observer)) {
      return null;
    }
    Unwrapped unwrapped = unwrap(ciphertext.toByteArray(), context);
    if (unwrapped == null) {
      observer.onError(invalidCiphertext());
    }
    return unwrapped;
  }

  private static io.grpc.StatusRuntimeException invalidCiphertext() {
    return GrpcErrors.error(
        Status.Code.INVALID_ARGUMENT,
        INVALID_CIPHERTEXT,
        "ciphertext does not decrypt: it was changed, or the context differs",
        Map.of());
  }

  private byte[] wrap(String name, int version, byte[] plaintext, Map<String, String> context) {
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    byte[] nonce = randomBytes(12);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x7f);
    out.write(nameBytes.length);
    out.writeBytes(nameBytes);
    out.writeBytes(ByteBuffer.allocate(4).putInt(version).array());
    out.writeBytes(nonce);
    out.writeBytes(
        gcm(Cipher.ENCRYPT_MODE, keks.get(name).get(version - 1), nonce, name, context, plaintext));
    return out.toByteArray();
  }

  private static final class Unwrapped {
    final String name;
    final int version;
    final byte[] plaintext;

    Unwrapped(String name, int version, byte[] plaintext) {
      this.name = name;
      this.version = version;
      this.plaintext = plaintext;
    }
  }

  private Unwrapped unwrap(byte[] wrapped, Map<String, String> context) {
    try {
      ByteBuffer in = ByteBuffer.wrap(wrapped);
      if (in.get() != 0x7f) {
        return null;
      }
      byte[] nameBytes = new byte[in.get() & 0xFF];
      in.get(nameBytes);
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      int version = in.getInt();
      byte[] nonce = new byte[12];
      in.get(nonce);
      byte[] sealed = new byte[in.remaining()];
      in.get(sealed);
      List<byte[]> versions = keks.get(name);
      if (versions == null || version < 1 || version > versions.size()) {
        return null;
      }
      byte[] plaintext =
          gcm(Cipher.DECRYPT_MODE, versions.get(version - 1), nonce, name, context, sealed);
      return plaintext == null ? null : new Unwrapped(name, version, plaintext);
    } catch (RuntimeException e) {
      return null; // malformed
    }
  }

  private byte[] gcm(
      int mode, byte[] kek, byte[] nonce, String name, Map<String, String> context, byte[] input) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
      cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
      if (!ignoreContext) {
        StringBuilder canonical = new StringBuilder();
        new TreeMap<>(context)
            .forEach(
                (k, v) ->
                    canonical
                        .append(k.length())
                        .append(':')
                        .append(k)
                        .append(v.length())
                        .append(':')
                        .append(v));
        cipher.updateAAD(canonical.toString().getBytes(StandardCharsets.UTF_8));
      }
      return cipher.doFinal(input);
    } catch (javax.crypto.AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private byte[] randomBytes(int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }
}
