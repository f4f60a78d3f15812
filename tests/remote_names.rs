//! Declared message names across separately defined types: two definitions of one message
//! type, in two modules (so their `std::any::type_name`s differ), interoperate over loopback
//! when they declare the same `RemoteMessage` name and version, and fail at lookup with a
//! typed error naming both identities when they do not.

use std::time::Duration;

use actor::net::{NetError, Node, RemoteMessage, Secret};
use actor::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// The server program's definition of the calculator's messages.
mod server_side {
    use actor::net::RemoteMessage;
    use actor::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub(crate) enum CalcMsg {
        Add(i64),
        Mul(i64, i64, Reply<i64>),
        Total(Reply<i64>),
    }

    impl RemoteMessage for CalcMsg {
        const NAME: &'static str = "calc";
    }

    #[derive(Default)]
    pub(crate) struct Calculator {
        total: i64,
    }

    impl Actor for Calculator {
        type Msg = CalcMsg;
        fn handle(&mut self, msg: CalcMsg, _: &mut Context<CalcMsg>) -> HandlerResult {
            match msg {
                CalcMsg::Add(n) => self.total += n,
                CalcMsg::Mul(a, b, reply) => reply.send(a * b),
                CalcMsg::Total(reply) => reply.send(self.total),
            }
            Ok(())
        }
    }
}

/// The client program's own definition: the same layout and declared identity.
mod client_side {
    use actor::net::RemoteMessage;
    use actor::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub(crate) enum CalcMsg {
        Add(i64),
        Mul(i64, i64, Reply<i64>),
        Total(Reply<i64>),
    }

    impl RemoteMessage for CalcMsg {
        const NAME: &'static str = "calc";
    }

    /// A later layout, declared as version 2.
    #[derive(Serialize, Deserialize)]
    pub(crate) enum CalcMsgV2 {
        Add(i128),
    }

    impl RemoteMessage for CalcMsgV2 {
        const NAME: &'static str = "calc";
        const VERSION: u32 = 2;
    }

    /// Another declared name.
    #[derive(Serialize, Deserialize)]
    pub(crate) enum Calculus {
        Add(i64),
    }

    impl RemoteMessage for Calculus {
        const NAME: &'static str = "myapp.calculus";
    }
}

fn secret() -> Secret {
    Secret::new(b"remote names share this test key: 0123456789".to_vec()).unwrap()
}

/// A system with the server side's calculator exported as `calc` on a loopback node.
struct Server {
    system: System,
    node: Node,
}

impl Server {
    fn start() -> Server {
        let system = System::new();
        let node = Node::builder(secret())
            .name("server")
            .listen("127.0.0.1:0")
            .build()
            .unwrap();
        let calc = system.spawn(server_side::Calculator::default()).unwrap();
        node.export("calc", &calc).unwrap();
        Server { system, node }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.node.local_addr().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.node.shutdown();
        self.system.shutdown();
    }
}

#[test]
fn two_definitions_with_one_declared_name_interoperate() {
    assert_ne!(
        std::any::type_name::<server_side::CalcMsg>(),
        std::any::type_name::<client_side::CalcMsg>()
    );
    let server = Server::start();
    let client = Node::builder(secret()).name("client").build().unwrap();
    let calc = client
        .lookup::<client_side::CalcMsg>(server.addr(), "calc")
        .unwrap();
    for n in 1..=10 {
        calc.tell(client_side::CalcMsg::Add(n)).unwrap();
    }
    let product = calc
        .ask(|reply| client_side::CalcMsg::Mul(6, 7, reply), WAIT)
        .unwrap();
    assert_eq!(product, 42);
    assert_eq!(calc.ask(client_side::CalcMsg::Total, WAIT).unwrap(), 55);
    client.shutdown();
}

#[test]
fn another_declared_version_is_a_wrong_type_naming_both() {
    let server = Server::start();
    let client = Node::builder(secret()).name("client").build().unwrap();
    let error = client
        .lookup::<client_side::CalcMsgV2>(server.addr(), "calc")
        .expect_err("version 2 is not version 1");
    let text = error.to_string();
    match error {
        NetError::WrongType {
            name,
            requested,
            actual,
            ..
        } => {
            assert_eq!(name, "calc");
            assert_eq!(requested, "calc@2");
            assert_eq!(actual, "calc@1");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(text.contains("calc@2") && text.contains("calc@1"), "{text}");
    // The same connection still serves a lookup that matches.
    let calc = client
        .lookup::<client_side::CalcMsg>(server.addr(), "calc")
        .unwrap();
    assert_eq!(calc.ask(client_side::CalcMsg::Total, WAIT).unwrap(), 0);
    client.shutdown();
}

#[test]
fn another_declared_name_is_a_wrong_type_naming_both() {
    let server = Server::start();
    let client = Node::builder(secret()).name("client").build().unwrap();
    match client.lookup::<client_side::Calculus>(server.addr(), "calc") {
        Err(NetError::WrongType {
            requested, actual, ..
        }) => {
            assert_eq!(requested, "myapp.calculus@1");
            assert_eq!(actual, "calc@1");
        }
        other => panic!("expected WrongType, got {:?}", other.err()),
    }
    client.shutdown();
}

#[test]
fn the_declared_identity_is_what_the_types_say() {
    assert_eq!(
        (server_side::CalcMsg::NAME, server_side::CalcMsg::VERSION),
        ("calc", 1)
    );
    assert_eq!(
        (
            client_side::CalcMsgV2::NAME,
            client_side::CalcMsgV2::VERSION
        ),
        ("calc", 2)
    );
}
