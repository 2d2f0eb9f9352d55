package dev.camelbatch.openaibatch.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A socket-level server for faults that com.sun.net.httpserver cannot produce: a TCP reset after the request, a body
 * shorter than its Content-Length. Each connection reads one request (headers and Content-Length body) and then runs
 * the script for that connection number (0-based).
 */
final class RawServer implements AutoCloseable {

    @FunctionalInterface
    interface Script {
        void run(int connectionIndex, Socket socket, String requestHead) throws IOException;
    }

    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    RawServer(Script script) throws IOException {
        serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!serverSocket.isClosed()) {
                try {
                    Socket s = serverSocket.accept();
                    int index = connections.getAndIncrement();
                    Thread t = new Thread(() -> serve(index, s, script), "raw-server-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "raw-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void serve(int index, Socket s, Script script) {
        try (Socket socket = s) {
            String head = readRequest(socket.getInputStream());
            if (head == null) {
                return;
            }
            requests.incrementAndGet();
            script.run(index, socket, head);
        } catch (IOException e) {
            // the client went away
        }
    }

    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            // look for CRLF CRLF
            if ((state == 0 || state == 2) && b == '\r') {
                state++;
            } else if ((state == 1 || state == 3) && b == '\n') {
                state++;
                if (state == 4) {
                    break;
                }
            } else {
                state = b == '\r' ? 1 : 0;
            }
        }
        if (b == -1) {
            return null;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        long length = 0;
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                length = Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        in.skipNBytes(length);
        return text;
    }

    /** Writes raw bytes then sends a TCP reset (SO_LINGER 0). */
    static void writeThenReset(Socket socket, String raw) throws IOException {
        socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        socket.setSoLinger(true, 0);
        socket.close();
    }

    static void respond(Socket socket, int status, String contentType, byte[] body) throws IOException {
        String head = "HTTP/1.1 " + status + " X\r\nContent-Type: " + contentType + "\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().write(body);
        socket.getOutputStream().flush();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + serverSocket.getLocalPort() + "/v1";
    }

    int connections() {
        return connections.get();
    }

    int requests() {
        return requests.get();
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
    }
}
