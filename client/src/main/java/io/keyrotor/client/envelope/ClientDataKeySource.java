package io.keyrotor.client.envelope;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.crypto.SecretBytes;
import java.util.Map;
import java.util.Objects;

/**
 * Data keys from a keyrotor cluster through the SDK (leader following, retries, deadlines). The SDK
 * zeroes its own copies of key bytes; the copies inside protobuf messages and gRPC's buffers are
 * immutable and become garbage with them.
 */
final class ClientDataKeySource implements DataKeySource {

  private final KeyrotorClient client;

  ClientDataKeySource(KeyrotorClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  @Override
  public DataKey generate(String keyName, Map<String, String> context) {
    GenerateDataKeyResponse response =
        client.generateDataKey(
            GenerateDataKeyRequest.newBuilder()
                .setKeyName(keyName)
                .putAllContext(context)
                .setSpec(DataKeySpec.DATA_KEY_SPEC_AES_256)
                .build());
    byte[] wrapped = response.getWrappedDataKey().toByteArray();
    BlobFormat.checkWrapped(wrapped);
    SecretBytes key = plaintextKey(response.getPlaintext(), "GenerateDataKey");
    String name = response.getKeyName().isEmpty() ? keyName : response.getKeyName();
    return new DataKey(key, wrapped, name, response.getKeyVersion());
  }

  @Override
  public DataKey unwrap(byte[] wrapped, Map<String, String> context) {
    DecryptResponse response =
        client.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertext(ByteString.copyFrom(wrapped))
                .putAllContext(context)
                .build());
    SecretBytes key = plaintextKey(response.getPlaintext(), "Decrypt");
    return new DataKey(key, wrapped, response.getKeyName(), response.getKeyVersion());
  }

  private static SecretBytes plaintextKey(ByteString plaintext, String rpc) {
    if (plaintext.size() != DataKey.KEY_BYTES) {
      throw new EnvelopeException(
          EnvelopeException.Reason.INVALID_DATA_KEY,
          rpc
              + " returned a data key of "
              + plaintext.size()
              + " bytes; envelopes need a 256-bit (32-byte) key");
    }
    return SecretBytes.takeOwnership(plaintext.toByteArray());
  }
}
