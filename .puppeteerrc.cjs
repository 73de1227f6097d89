// Huizhen's browser tests drive Debian's Chromium; puppeteer must never try to
// download a browser of its own (the machines reach only npm and apt).
module.exports = {
  skipDownload: true,
  executablePath: process.env.HUIZHEN_CHROMIUM ?? '/usr/bin/chromium',
};
