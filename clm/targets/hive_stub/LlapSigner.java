// The declaration of Hive's org.apache.hadoop.hive.llap.security.LlapSigner (hive-llap-common), which
// pyspark's jars do not ship (SPARK-51041). Hive's FunctionRegistry cannot initialise without it: its static
// block loads GenericUDTFGetSplits, whose code refers to LlapSigner.Signable. clm's local Thrift server
// (clm/targets/spark_server.py) compiles this file once and puts it on the server's class path; nothing calls
// it (LLAP is Hive-on-Tez's, never Spark's).
package org.apache.hadoop.hive.llap.security;

import java.io.IOException;

public interface LlapSigner {
  interface Signable {
    void setSignInfo(int masterKeyId);

    byte[] serialize() throws IOException;
  }

  final class SignedMessage {
    public byte[] message;
    public byte[] signature;
  }

  SignedMessage serializeAndSign(Signable message) throws IOException;

  void checkSignature(byte[] message, byte[] signature, int keyId) throws SecurityException;
}
