package io.resilientws.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate for localhost, made with the JDK's own {@code keytool} so that TLS tests
 * need nothing from outside: a PKCS12 key store for the server and the certificate as PEM for the
 * client's trust store.
 */
public record SelfSignedCertificate(Path keyStore, String password, Path certificatePem) {

	public static SelfSignedCertificate create(Path directory) throws IOException, InterruptedException {
		Path keyStore = directory.resolve("server.p12");
		Path certificate = directory.resolve("server.pem");
		String password = "changeit";
		String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
		run(List.of(keytool, "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048",
				"-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password, "-dname",
				"CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2"));
		run(List.of(keytool, "-exportcert", "-rfc", "-alias", "server", "-keystore", keyStore.toString(),
				"-storepass", password, "-file", certificate.toString()));
		return new SelfSignedCertificate(keyStore, password, certificate);
	}

	private static void run(List<String> command) throws IOException, InterruptedException {
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes());
		if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
			throw new IOException("keytool failed: " + output);
		}
		if (!Files.exists(Path.of(command.get(command.indexOf("-keystore") + 1)))) {
			throw new IOException("keytool wrote no key store: " + output);
		}
	}

}
