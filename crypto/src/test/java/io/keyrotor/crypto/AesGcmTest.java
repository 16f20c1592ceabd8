package io.keyrotor.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * AES-GCM against known answers: the test cases of the GCM specification (McGrew and Viega, "The
 * Galois/Counter Mode of Operation", the examples NIST's CAVP publishes for SP 800-38D) with 96-bit
 * IVs, the worked example of docs/ciphertext-format.md, and what must never open.
 */
class AesGcmTest {
  private static final HexFormat HEX = HexFormat.of();

  private static final String K_FEFFE = "feffe9928665731c6d6a8f9467308308";
  private static final String IV_CAFEBABE = "cafebabefacedbaddecaf888";
  private static final String P_60 =
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
  private static final String A_20 = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

  static Stream<Arguments> gcmSpecTestCases() {
    return Stream.of(
        Arguments.of(
            "test case 4 (AES-128)",
            K_FEFFE,
            IV_CAFEBABE,
            P_60,
            A_20,
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47"),
        Arguments.of(
            "test case 10 (AES-192)",
            K_FEFFE + K_FEFFE.substring(0, 16),
            IV_CAFEBABE,
            P_60,
            A_20,
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
                + "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
            "2519498e80f1478f37ba55bd6d27618c"),
        Arguments.of(
            "test case 13 (AES-256, empty plaintext and associated data)",
            "00".repeat(32),
            "00".repeat(12),
            "",
            "",
            "",
            "530f8afbc74536b9a963b4f1c4cb738b"),
        Arguments.of(
            "test case 14 (AES-256, one zero block)",
            "00".repeat(32),
            "00".repeat(12),
            "00".repeat(16),
            "",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919"),
        Arguments.of(
            "test case 15 (AES-256, four blocks, no associated data)",
            K_FEFFE + K_FEFFE,
            IV_CAFEBABE,
            P_60 + "1aafd255",
            "",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c"),
        Arguments.of(
            "test case 16 (AES-256, 60 bytes, 20 bytes of associated data)",
            K_FEFFE + K_FEFFE,
            IV_CAFEBABE,
            P_60,
            A_20,
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("gcmSpecTestCases")
  void seal_gcmSpecTestCase_matchesCiphertextAndTag(
      String name,
      String key,
      String iv,
      String plaintext,
      String aad,
      String ciphertext,
      String tag) {
    byte[] p = HEX.parseHex(plaintext);
    byte[] out = new byte[p.length + AesGcm.TAG_BYTES];

    int written =
        AesGcm.seal(
            SecretBytes.copyOf(HEX.parseHex(key)),
            HEX.parseHex(iv),
            p,
            0,
            p.length,
            out,
            0,
            HEX.parseHex(aad));

    assertEquals(out.length, written);
    assertEquals(ciphertext + tag, HEX.formatHex(out));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("gcmSpecTestCases")
  void open_gcmSpecTestCase_returnsThePlaintext(
      String name,
      String key,
      String iv,
      String plaintext,
      String aad,
      String ciphertext,
      String tag)
      throws AuthenticationFailedException {
    byte[] sealed = HEX.parseHex(ciphertext + tag);

    byte[] opened =
        AesGcm.open(
            SecretBytes.copyOf(HEX.parseHex(key)),
            HEX.parseHex(iv),
            sealed,
            0,
            sealed.length,
            HEX.parseHex(aad));

    assertEquals(plaintext, HEX.formatHex(opened));
  }

  @Test
  void associatedDataInParts_authenticatesTheirConcatenation() throws Exception {
    // Test case 16 with its associated data split in three parts, one of them empty.
    byte[] aad = HEX.parseHex(A_20);
    byte[] sealed = sealTestCase16(new byte[][] {Arrays.copyOf(aad, 7), new byte[0], tail(aad, 7)});

    assertEquals(
        "76fc6ece0f4e1768cddf8853bb2d551b", HEX.formatHex(tail(sealed, sealed.length - 16)));
    assertEquals(
        P_60,
        HEX.formatHex(
            AesGcm.open(
                testCase16Key(),
                HEX.parseHex(IV_CAFEBABE),
                sealed,
                0,
                sealed.length,
                aad,
                new byte[0])));
  }

  @Test
  void seal_workedExampleOfTheCiphertextFormat_matchesTheDocument() {
    // docs/ciphertext-format.md, "Worked example": AAD = header || canonical context.
    byte[] header = HEX.parseHex("4b520100066f726465727300000002000102030405060708090a0b");
    byte[] context =
        HEX.parseHex(
            "0000000200000007707572706f736500000007696e766f6963650000000674656e616e740000000461636d65");
    byte[] plaintext = "card 4111".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] envelope = Arrays.copyOf(header, header.length + plaintext.length + AesGcm.TAG_BYTES);

    AesGcm.seal(
        SecretBytes.copyOf(
            HEX.parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")),
        HEX.parseHex("000102030405060708090a0b"),
        plaintext,
        0,
        plaintext.length,
        envelope,
        header.length,
        header,
        context);

    assertEquals(
        "4b520100066f726465727300000002000102030405060708090a0b"
            + "2463a47fe5d1f32abc"
            + "b304a5629dd005745e10aefc1742be5c",
        HEX.formatHex(envelope));
  }

  @Test
  void seal_writesOnlyItsOwnRangeOfTheOutput() {
    byte[] p = HEX.parseHex(P_60);
    byte[] out = new byte[5 + p.length + 16 + 5];
    Arrays.fill(out, (byte) 0x77);

    AesGcm.seal(
        testCase16Key(), HEX.parseHex(IV_CAFEBABE), p, 0, p.length, out, 5, HEX.parseHex(A_20));

    for (int i : new int[] {0, 1, 2, 3, 4, out.length - 5, out.length - 1}) {
      assertEquals(0x77, out[i], "byte " + i);
    }
    assertEquals(
        "76fc6ece0f4e1768cddf8853bb2d551b", HEX.formatHex(out, out.length - 21, out.length - 5));
  }

  @Test
  void seal_sameKeyAndNonceTwiceInARow_givesTheSameBytes() {
    // The JDK refuses to reuse a key and nonce on one Cipher; fixed vectors do that on purpose.
    assertArrayEquals(sealTestCase16(HEX.parseHex(A_20)), sealTestCase16(HEX.parseHex(A_20)));
  }

  @Test
  void open_everyBitFlipOfCiphertextOrTag_failsWithTheSameMessage() {
    byte[] good = sealTestCase16(HEX.parseHex(A_20));
    for (int bit = 0; bit < good.length * 8; bit++) {
      byte[] flipped = good.clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      AuthenticationFailedException failure =
          assertThrows(
              AuthenticationFailedException.class,
              () -> openTestCase16(flipped, HEX.parseHex(A_20)),
              "bit " + bit);
      assertEquals(AuthenticationFailedException.MESSAGE, failure.getMessage());
    }
  }

  @Test
  void open_otherAssociatedDataNonceOrKey_fails() {
    byte[] good = sealTestCase16(HEX.parseHex(A_20));
    byte[] otherAad = HEX.parseHex(A_20);
    otherAad[19] ^= 1;
    byte[] otherNonce = HEX.parseHex(IV_CAFEBABE);
    otherNonce[0] ^= (byte) 0x80;
    byte[] otherKey = HEX.parseHex(K_FEFFE + K_FEFFE);
    otherKey[31] ^= 1;

    assertThrows(AuthenticationFailedException.class, () -> openTestCase16(good, otherAad));
    assertThrows(AuthenticationFailedException.class, () -> openTestCase16(good, new byte[0]));
    assertThrows(
        AuthenticationFailedException.class,
        () -> AesGcm.open(testCase16Key(), otherNonce, good, 0, good.length, HEX.parseHex(A_20)));
    assertThrows(
        AuthenticationFailedException.class,
        () ->
            AesGcm.open(
                SecretBytes.copyOf(otherKey),
                HEX.parseHex(IV_CAFEBABE),
                good,
                0,
                good.length,
                HEX.parseHex(A_20)));
  }

  @Test
  void open_truncatedOrExtended_fails() {
    byte[] good = sealTestCase16(HEX.parseHex(A_20));
    for (int length = 0; length < good.length; length++) {
      byte[] cut = Arrays.copyOf(good, length);
      assertThrows(
          AuthenticationFailedException.class,
          () -> openTestCase16(cut, HEX.parseHex(A_20)),
          "length " + length);
    }
    assertThrows(
        AuthenticationFailedException.class,
        () -> openTestCase16(Arrays.copyOf(good, good.length + 1), HEX.parseHex(A_20)));
  }

  @Test
  void closedKey_refusedForSealAndOpen() {
    SecretBytes key = testCase16Key();
    byte[] good = sealTestCase16(HEX.parseHex(A_20));
    key.close();
    byte[] p = HEX.parseHex(P_60);

    assertThrows(
        IllegalStateException.class,
        () ->
            AesGcm.seal(
                key, HEX.parseHex(IV_CAFEBABE), p, 0, p.length, new byte[p.length + 16], 0));
    assertThrows(
        IllegalStateException.class,
        () -> AesGcm.open(key, HEX.parseHex(IV_CAFEBABE), good, 0, good.length));
    // The thread's Cipher is still fine afterwards.
    assertArrayEquals(good, sealTestCase16(HEX.parseHex(A_20)));
  }

  @Test
  void wrongKeyOrNonceLength_refused() {
    byte[] p = new byte[1];
    byte[] out = new byte[17];

    assertThrows(
        IllegalArgumentException.class,
        () -> AesGcm.seal(SecretBytes.copyOf(new byte[31]), new byte[12], p, 0, 1, out, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> AesGcm.seal(SecretBytes.copyOf(new byte[32]), new byte[16], p, 0, 1, out, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> AesGcm.open(SecretBytes.copyOf(new byte[32]), new byte[8], out, 0, 17));
  }

  @Test
  void randomNonce_is96BitsAndFreshEachTime() {
    SecureRandom random = new SecureRandom();
    byte[] first = AesGcm.randomNonce(random);
    byte[] second = AesGcm.randomNonce(random);

    assertEquals(12, first.length);
    assertFalse(Arrays.equals(first, second));
  }

  private static SecretBytes testCase16Key() {
    return SecretBytes.copyOf(HEX.parseHex(K_FEFFE + K_FEFFE));
  }

  private static byte[] sealTestCase16(byte[]... associatedData) {
    byte[] p = HEX.parseHex(P_60);
    byte[] out = new byte[p.length + AesGcm.TAG_BYTES];
    AesGcm.seal(testCase16Key(), HEX.parseHex(IV_CAFEBABE), p, 0, p.length, out, 0, associatedData);
    return out;
  }

  private static byte[] openTestCase16(byte[] sealed, byte[] aad)
      throws AuthenticationFailedException {
    return AesGcm.open(testCase16Key(), HEX.parseHex(IV_CAFEBABE), sealed, 0, sealed.length, aad);
  }

  private static byte[] tail(byte[] bytes, int from) {
    return Arrays.copyOfRange(bytes, from, bytes.length);
  }
}
