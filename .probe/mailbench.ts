import { createSinks } from '../src/sandbox/sinks';
import { createEmailSender } from '../src/adapters/notify/email';
import nodemailer from 'nodemailer';

const N = 600;
async function run(label: string, send: (i: number) => Promise<unknown>) {
  const c0 = process.cpuUsage(); const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (next < N) { const i = next++; await send(i); } }));
  const c = process.cpuUsage(c0);
  console.log(label, ((c.user + c.system) / 1000 / N).toFixed(3), 'ms cpu/mail', Date.now() - t0, 'ms wall');
}
async function main() {
  const sinks = await createSinks({ smtpPort: 0, httpPort: 0, smsAccountSid: 'AC1', smsAuthToken: 't' });
  const sender = createEmailSender({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, from: '"Cronus" <billing@cronus.example>' });
  const raw = nodemailer.createTransport({ pool: true, maxConnections: 4, maxMessages: 500, host: '127.0.0.1', port: sinks.smtpPort, secure: false });
  const text = 'Dear Customer,\n\nInvoice PS-INV103001 for 1,234.56 USD is ready. View and pay: http://127.0.0.1:4020/client/pay/abc123def456\n\nThank you';
  const html = `<p>${text.replace(/\n/g, '<br>')}</p>`;
  for (let round = 0; round < 4; round++) {
    await run('adapter', (i) => sender.send({ to: `c${i}@example.com`, subject: `Invoice PS-INV${i}`, text, html, idempotencyKey: `r${round}-link-${i}-1` }));
    await run('nm     ', (i) => raw.sendMail({ from: '"Cronus" <billing@cronus.example>', to: `c${i}@example.com`, subject: `Invoice PS-INV${i}`, text, html, messageId: `<r${round}-nm-${i}@cronus.example>` }));
    await run('raw    ', (i) => {
      const id = `<r${round}-raw-${i}@cronus.example>`;
      const b = Math.random().toString(36).slice(2);
      const msg = [`From: "Cronus" <billing@cronus.example>`, `To: c${i}@example.com`, `Subject: Invoice PS-INV${i}`, `Message-ID: ${id}`, `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0',
        `Content-Type: multipart/alternative; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit', '', text, `--${b}`, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 7bit', '', html, `--${b}--`, ''].join('\r\n');
      return raw.sendMail({ envelope: { from: 'billing@cronus.example', to: [`c${i}@example.com`] }, raw: msg });
    });
  }
  sender.close(); raw.close(); await sinks.close();
}
main().then(() => process.exit(0));
