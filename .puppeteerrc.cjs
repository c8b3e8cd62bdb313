// memlab (a devDependency used only by bench/analysis) depends on puppeteer, whose install script
// would download a browser: this machine and CI have no network but the npm registry, and the
// project uses Debian's chromium instead. Puppeteer reads this file from the project root.
module.exports = { skipDownload: true };
