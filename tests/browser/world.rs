//! The browser suite's world: a demo database, `offboard serve` on a free
//! loopback port, chromedriver and one headless Chromium session.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use offboard::db::{self, DbUrl, Pool, PooledConn};
use offboard::services;
use thirtyfour::prelude::*;

pub const PASSWORD: &str = "browser-demo-1";

/// The bound on every wait for the outcome of a click or a submit.
pub const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// Why a step failed; any error converts into it.
#[derive(Debug)]
pub struct Fail(pub String);

impl From<WebDriverError> for Fail {
    fn from(e: WebDriverError) -> Self {
        Fail(e.to_string())
    }
}
impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail(s)
    }
}
impl From<&str> for Fail {
    fn from(s: &str) -> Self {
        Fail(s.to_string())
    }
}

pub type Step = Result<(), Fail>;

pub struct World {
    pub driver: WebDriver,
    pub dir: PathBuf,
    base: String,
    pool: Pool,
    server: Child,
    chromedriver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn wait_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl World {
    /// None (the suite is skipped with a message) only when chromedriver is
    /// missing and the run does not require the browser; scripts/test.sh does.
    pub async fn start() -> Option<World> {
        let chromedriver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        if !std::path::Path::new(&chromedriver_bin).exists() {
            assert!(
                std::env::var("OFFBOARD_BROWSER").as_deref() != Ok("require"),
                "chromedriver is missing: apt-get install chromium chromium-driver"
            );
            eprintln!("SKIPPED: no chromedriver; scripts/test.sh installs it");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("offboard-browser-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db_path = dir.join("browser.db").to_string_lossy().into_owned();
        let pool = db::connect(&DbUrl::Sqlite(db_path.clone()), 2).expect("database");
        let hash = services::auth::hash_password(PASSWORD, true).expect("hash");
        services::seed::seed_demo(&mut pool.get().expect("conn"), &hash, services::now()).expect("demo data");

        let port = free_port();
        let server = Command::new(env!("CARGO_BIN_EXE_offboard"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &db_path)
            .env("OFFBOARD_SECRET_KEY", "cd".repeat(64))
            .env("OFFBOARD_SWEEP_SECONDS", "100000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("offboard serve");
        wait_port(port, "offboard serve");

        let driver_port = free_port();
        let chromedriver = Command::new(&chromedriver_bin)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        wait_port(driver_port, "chromedriver");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .expect("binary");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ] {
            caps.add_arg(arg).expect("arg");
        }
        caps.add_arg(&format!("--user-data-dir={}", dir.join("profile").display()))
            .expect("arg");
        let driver = WebDriver::new(format!("http://127.0.0.1:{driver_port}"), caps)
            .await
            .expect("a Chromium session");
        Some(World {
            driver,
            dir,
            base: format!("http://127.0.0.1:{port}"),
            pool,
            server,
            chromedriver,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn conn(&self) -> PooledConn {
        self.pool.get().expect("conn")
    }

    /// Runs one flow; on failure keeps a screenshot and the HTML, then fails the test.
    pub async fn run(&self, name: &str, step: impl Future<Output = Step>) {
        if let Err(Fail(why)) = step.await {
            let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
            let _ = std::fs::create_dir_all(&out);
            let file = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            let _ = self.driver.screenshot(&out.join(format!("{file}.png"))).await;
            if let Ok(html) = self.driver.source().await {
                let _ = std::fs::write(out.join(format!("{file}.html")), html);
            }
            panic!(
                "browser flow '{name}' failed: {why} (screenshot and HTML in {})",
                out.display()
            );
        }
    }

    pub fn ensure(&self, ok: bool, why: impl Into<String>) -> Step {
        if ok {
            Ok(())
        } else {
            Err(Fail(why.into()))
        }
    }

    /// Polls until `check` holds, for up to [`WAIT`]. Every step that clicks
    /// or submits waits here for its outcome: reading the page right after a
    /// click reads the old page on a loaded machine.
    pub async fn wait_for<F, Fut>(&self, what: &str, check: F) -> Step
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<bool, Fail>>,
    {
        self.wait_within(WAIT, what, check).await
    }

    /// [`World::wait_for`] with its own bound, for work that takes longer (an import job).
    pub async fn wait_within<F, Fut>(&self, bound: Duration, what: &str, check: F) -> Step
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<bool, Fail>>,
    {
        let start = Instant::now();
        loop {
            // An error (a stale element while the page changes) is "not yet".
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            if start.elapsed() > bound {
                let url = self
                    .driver
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                return Err(Fail(format!("timed out after {bound:?} waiting for {what} (at {url})")));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn el(&self, css: &str) -> Result<WebElement, Fail> {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .first()
            .await
            .map_err(|e| Fail(format!("no {css} within {WAIT:?}: {e}")))
    }

    /// Clicks the first element matching `css` once it is there and clickable.
    pub async fn click(&self, css: &str) -> Step {
        let el = self
            .driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .and_clickable()
            .first()
            .await
            .map_err(|e| Fail(format!("nothing clickable at {css} within {WAIT:?}: {e}")))?;
        el.click().await?;
        Ok(())
    }

    /// Waits until the address bar shows `path`.
    pub async fn wait_path(&self, path: &str) -> Step {
        self.wait_for(&format!("the URL path {path}"), || async {
            Ok(self.driver.current_url().await?.path() == path)
        })
        .await
    }

    /// Waits for an element matching `css` whose text contains `needle`; returns its text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> Result<String, Fail> {
        let found = std::sync::Mutex::new(String::new());
        self.wait_for(&format!("{css} reading {needle:?}"), || async {
            for el in self.driver.find_all(By::Css(css)).await? {
                let text = el.text().await?;
                if text.contains(needle) {
                    *found.lock().map_err(|_| "poisoned")? = text;
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await?;
        let text = found.lock().map_err(|_| "poisoned")?.clone();
        Ok(text)
    }

    pub async fn goto(&self, path: &str) -> Step {
        self.driver.goto(self.url(path)).await?;
        Ok(())
    }

    /// Signs in and waits for the signed-in page (its sign-out button), not
    /// only for the click.
    pub async fn sign_in(&self, email: &str) -> Step {
        self.goto("/login").await?;
        self.el("#email").await?.send_keys(email).await?;
        self.el("#password").await?.send_keys(PASSWORD).await?;
        self.click("button[type=submit]").await?;
        self.wait_for(&format!("{email} to be signed in"), || async {
            let url = self.driver.current_url().await?;
            let signed_in = !self
                .driver
                .find_all(By::Css("form[action='/logout']"))
                .await?
                .is_empty();
            Ok(url.path() != "/login" && signed_in)
        })
        .await
    }

    pub async fn emails(&self) -> Result<Vec<String>, Fail> {
        let mut out = Vec::new();
        for row in self.driver.find_all(By::Css("tr[data-user-email]")).await? {
            out.push(row.attr("data-user-email").await?.unwrap_or_default());
        }
        Ok(out)
    }

    pub async fn first_email(&self) -> Result<String, Fail> {
        Ok(self.emails().await?.into_iter().next().unwrap_or_default())
    }

    pub async fn stop(self) {
        let driver = self.driver.clone();
        let _ = driver.quit().await;
        // Drop ends the processes.
    }
}

/// A failed flow panics: the server and chromedriver must not outlive the test.
impl Drop for World {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.chromedriver.kill();
        let _ = self.server.wait();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
